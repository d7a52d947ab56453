#pragma once
// Small file helpers. read_file bounds what it reads; write_file_atomic
// writes to a temporary file in the same directory, fsyncs it and renames it
// over the target, so readers never see half a certificate or key.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::common {

inline constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path,
                                            std::size_t max_bytes = kMaxFileBytes);

// write_file_atomic creates the file with `mode` (e.g. 0600 for keys).
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                                       std::filesystem::perms mode);

}  // namespace keystep::common
