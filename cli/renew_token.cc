#include "cli/renew_token.h"

#include <nlohmann/json.hpp>

#include "cli/token.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/crypto/key.h"

namespace keystep::cli {

Result<std::string> sign_renew_token(const std::vector<crypto::Certificate>& chain, EVP_PKEY* key,
                                     const std::string& audience, common::TimePoint now) {
  if (chain.empty()) return fail(Errc::invalid_argument, "a renew token needs the certificate to renew");
  if (audience.empty()) return fail(Errc::invalid_argument, "a token needs an audience");
  if (!crypto::same_public_key(chain.front().public_key(), key)) {
    return fail(Errc::failed_precondition, "a renew token must be signed with the certificate's own key");
  }
  auto jwk = jose::Jwk::from_pkey(key);
  if (!jwk) return tl::unexpected(jwk.error());
  auto jti = new_token_id();
  if (!jti) return tl::unexpected(jti.error());

  nlohmann::json x5c = nlohmann::json::array();
  for (const auto& cert : chain) x5c.push_back(common::base64_encode(cert.der()));
  const nlohmann::json header = {
      {"alg", jwk->alg()},
      {"kid", jwk->thumbprint()},
      {"typ", "JWT"},
      {"x5cInsecure", std::move(x5c)},
  };
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const nlohmann::json payload = {
      {"aud", audience},
      {"exp", iat + kRenewTokenLifetime.count()},
      {"iat", iat},
      {"iss", kRenewTokenIssuer},
      {"jti", *jti},
      {"nbf", iat},
      {"sub", chain.front().common_name()},
  };
  return jose::sign_compact(header, payload.dump(), *jwk);
}

}  // namespace keystep::cli
