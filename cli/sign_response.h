#pragma once
// chain_from_sign_response reads the certificate chain of a step-ca
// SignResponse, the answer of /sign and /renew: "certChain" (leaf first),
// or "crt" and "ca" from servers before step-ca v0.14. It checks that the
// leaf certifies `key` (borrowed), so a CA's mix-up never replaces a good
// certificate with one for another key.

#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"

namespace keystep::cli {

[[nodiscard]] Result<std::vector<crypto::Certificate>> chain_from_sign_response(const nlohmann::json& response,
                                                                                EVP_PKEY* key);

}  // namespace keystep::cli
