#pragma once
// Files a command writes (certificates, keys, JWKs) are never overwritten by
// accident: refuse_overwrite fails with already_exists unless --force.

#include <filesystem>

#include "cli/args.h"
#include "issuer/common/error.h"

namespace keystep::cli {

inline constexpr auto kPublicFileMode = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                        std::filesystem::perms::group_read | std::filesystem::perms::others_read;
inline constexpr auto kPrivateFileMode = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

[[nodiscard]] FlagSpec force_flag();

// refuse_overwrite: "FILE already exists: give --force to overwrite it".
[[nodiscard]] Status refuse_overwrite(const std::filesystem::path& path, bool force);

}  // namespace keystep::cli
