#pragma once
// sign_renew_token mints the token with which `keystep ca renew` renews a
// certificate without mTLS (reference §4.2): after --mtls=false, or once the
// certificate has expired and no TLS handshake would accept it. It is a JWT
// signed with the certificate's own key:
//   header  {"alg": ES256|ES384|ES512|RS256|EdDSA by key, "kid": RFC 7638
//            thumbprint of the leaf's public key, "typ":"JWT",
//            "x5cInsecure": [std base64 DER of leaf, then intermediates]}
//   claims  {"aud": audience, "iss":"step-ca-client/1.0", "sub": leaf CN,
//            "iat" = "nbf" = now, "exp" = now + 5m, "jti": 64 hex}
// The CA verifies the chain to its root (ignoring validity) and the
// signature with the leaf's key. `key` must be the leaf's private key
// (failed_precondition otherwise). The token is a credential: never log it.

#include <chrono>
#include <string>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"

namespace keystep::cli {

inline constexpr char kRenewTokenIssuer[] = "step-ca-client/1.0";
inline constexpr std::chrono::seconds kRenewTokenLifetime = std::chrono::minutes(5);

[[nodiscard]] Result<std::string> sign_renew_token(const std::vector<crypto::Certificate>& chain, EVP_PKEY* key,
                                                   const std::string& audience, common::TimePoint now);

}  // namespace keystep::cli
