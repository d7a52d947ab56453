#include "issuer/provisioners/jwk/token_claims.h"

#include <openssl/sha.h>

#include <optional>

#include "issuer/common/base64.h"

namespace keystep::provisioners {

Result<common::TimePoint> check_token_times(const nlohmann::json& claims, common::TimePoint now) {
  bool malformed = false;
  auto number = [&](const char* name) -> std::optional<std::int64_t> {
    auto it = claims.find(name);
    if (it == claims.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) {
      malformed = true;
      return std::nullopt;
    }
    return static_cast<std::int64_t>(it->get<double>());
  };
  auto exp = number("exp");
  auto nbf = number("nbf");
  auto iat = number("iat");
  if (malformed) return fail(Errc::unauthenticated, "token time claims must be numbers");
  if (!exp) return fail(Errc::unauthenticated, "token has no expiry (exp)");
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto leeway = kTokenLeeway.count();
  if (nbf && now_s + leeway < *nbf) return fail(Errc::unauthenticated, "token not valid yet (nbf)");
  if (now_s - leeway > *exp) return fail(Errc::unauthenticated, "token is expired (exp)");
  if (iat && now_s + leeway < *iat) return fail(Errc::unauthenticated, "token issued in the future (iat)");
  return common::TimePoint(std::chrono::seconds(*exp));
}

std::string token_id(const nlohmann::json& claims, std::string_view raw_token) {
  if (auto jti = claims.find("jti"); jti != claims.end() && jti->is_string() && !jti->get_ref<const std::string&>().empty()) {
    return jti->get<std::string>();
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(raw_token.data()), raw_token.size(), md);
  return common::hex_encode(md, sizeof md);
}

}  // namespace keystep::provisioners
