#pragma once
// read_certificate_file reads the first certificate of a file in PEM (a
// bundle is fine) or DER, as `step certificate fingerprint|inspect` accept.
// Errors name the file.

#include <filesystem>

#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"

namespace keystep::cli {

[[nodiscard]] Result<crypto::Certificate> read_certificate_file(const std::filesystem::path& path);

}  // namespace keystep::cli
