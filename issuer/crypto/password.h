#pragma once
// read_password_file returns the first line of a password file without its
// line ending, as step and openssl's "file:" source read it. The password
// stays in SecretBytes; it never reaches a log or an error message.

#include <filesystem>

#include "issuer/common/error.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::crypto {

[[nodiscard]] Result<SecretBytes> read_password_file(const std::filesystem::path& path);

}  // namespace keystep::crypto
