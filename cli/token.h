#pragma once
// sign_token mints a JWK provisioner's one-time token exactly as `step ca
// token` does (reference §2.2): header {"alg","kid","typ":"JWT"}, payload
// {"aud" (a string),"exp","iat","iss","jti","nbf","sans","sha","sub"} with
// sorted keys, iat = nbf = now and exp = now + lifetime. jti is 32 random
// bytes in lowercase hex, so every token is single-use on the CA.
//
// The key's alg and kid are used as they are; a key without them gets the
// default alg of its type and its RFC 7638 thumbprint. Fails with
// invalid_argument for an empty subject or audience, or failed_precondition
// for a public key. The token is a credential: callers print it only where
// the user asked for it, never to a log.

#include <chrono>
#include <string>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/jose/jwk.h"

namespace keystep::cli {

inline constexpr std::chrono::seconds kDefaultTokenLifetime = std::chrono::minutes(5);
// step's client-side bounds on a token's lifetime.
inline constexpr std::chrono::seconds kMinTokenLifetime{10};
inline constexpr std::chrono::seconds kMaxTokenLifetime = std::chrono::hours(1);

// Audience paths, joined to the CA URL with endpoint_url().
inline constexpr char kSignAudiencePath[] = "/1.0/sign";
inline constexpr char kRevokeAudiencePath[] = "/1.0/revoke";
inline constexpr char kRenewAudiencePath[] = "/1.0/renew";

struct TokenClaims {
  std::string subject;            // "sub": the certificate's common name (or a serial to revoke)
  std::vector<std::string> sans;  // "sans"; left out when empty (revoke tokens)
  std::string audience;           // "aud": CA URL with an audience path
  std::string issuer;             // "iss": the provisioner's name
  std::string root_sha256;        // "sha": hex SHA-256 of the root's DER; left out when empty
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
};

// new_token_id returns a fresh "jti": 32 random bytes in lowercase hex.
[[nodiscard]] Result<std::string> new_token_id();

[[nodiscard]] Result<std::string> sign_token(const TokenClaims& claims, const jose::Jwk& key, common::TimePoint now);

}  // namespace keystep::cli
