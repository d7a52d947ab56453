#include "cli/token.h"

#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/crypto/openssl_error.h"

namespace keystep::cli {
namespace {

// alg_of falls back to what from_pkey would choose for the key type.
Result<std::string> alg_of(const jose::Jwk& key) {
  if (!key.alg().empty()) return key.alg();
  auto defaults = jose::Jwk::from_pkey(key.pkey());
  if (!defaults) return tl::unexpected(defaults.error());
  return defaults->alg();
}

}  // namespace

Result<std::string> new_token_id() {
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot draw random bytes for the token id");
  }
  return common::hex_encode(bytes.data(), bytes.size());
}

Result<std::string> sign_token(const TokenClaims& claims, const jose::Jwk& key, common::TimePoint now) {
  if (claims.subject.empty()) return fail(Errc::invalid_argument, "a token needs a subject");
  if (claims.audience.empty()) return fail(Errc::invalid_argument, "a token needs an audience");
  if (!key.has_private()) return fail(Errc::failed_precondition, "a token needs the provisioner's private key");
  auto alg = alg_of(key);
  if (!alg) return tl::unexpected(alg.error());
  auto jti = new_token_id();
  if (!jti) return tl::unexpected(jti.error());

  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json payload = {
      {"aud", claims.audience},
      {"exp", iat + claims.lifetime.count()},
      {"iat", iat},
      {"iss", claims.issuer},
      {"jti", *jti},
      {"nbf", iat},
      {"sub", claims.subject},
  };
  if (!claims.sans.empty()) payload["sans"] = claims.sans;
  if (!claims.root_sha256.empty()) payload["sha"] = claims.root_sha256;
  const nlohmann::json header = {
      {"alg", *alg},
      {"kid", key.kid().empty() ? key.thumbprint() : key.kid()},
      {"typ", "JWT"},
  };
  return jose::sign_compact(header, payload.dump(), key);
}

}  // namespace keystep::cli
