#pragma once
// make_csr_pem builds the PKCS#10 request `keystep ca certificate` sends:
// subject CN=common_name, and a subjectAltName extension holding `sans`
// sorted into DNS names, IP addresses, emails and URIs with step-ca's rule
// (policy::split_sans), signed with key. Each name is encoded directly, so a
// value cannot smuggle in another name. Fails with invalid_argument for a
// value OpenSSL cannot encode or more than crypto::kMaxCsrSans names.

#include <string>
#include <vector>

#include <openssl/evp.h>

#include "issuer/common/error.h"

namespace keystep::cli {

[[nodiscard]] Result<std::string> make_csr_pem(EVP_PKEY* key, const std::string& common_name,
                                               const std::vector<std::string>& sans);

}  // namespace keystep::cli
