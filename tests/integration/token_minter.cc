#include "tests/integration/token_minter.h"

#include <openssl/rand.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"
#include "tests/integration/harness.h"

namespace keystep::integration {
namespace {

std::string random_jti() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw HarnessError("RAND_bytes failed");
  return common::hex_encode(bytes, sizeof bytes);
}

nlohmann::json token_part(const std::string& token, std::size_t index) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    start = token.find('.', start);
    if (start == std::string::npos) throw HarnessError("not a compact JWS: " + token);
    ++start;
  }
  const auto end = token.find('.', start);
  if (end == std::string::npos) throw HarnessError("not a compact JWS: " + token);
  auto bytes = common::base64url_decode(std::string_view(token).substr(start, end - start));
  if (!bytes) throw HarnessError("token part " + std::to_string(index) + " is not base64url");
  auto json = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (json.is_discarded()) throw HarnessError("token part " + std::to_string(index) + " is not JSON");
  return json;
}

}  // namespace

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TokenMinter TokenMinter::load(const std::filesystem::path& private_jwk, std::string issuer) {
  auto json = nlohmann::json::parse(read_text(private_jwk), nullptr, false);
  if (json.is_discarded()) throw HarnessError(private_jwk.string() + " is not a plain JSON JWK");
  auto key = jose::Jwk::from_json(json);
  if (!key) throw HarnessError(private_jwk.string() + ": " + key.error().message);
  if (!key->has_private()) throw HarnessError(private_jwk.string() + " holds no private key");
  return TokenMinter(std::move(*key), std::move(issuer));
}

TokenMinter TokenMinter::generate(std::string issuer) {
  auto key = jose::Jwk::generate("EC", 0, "P-256");
  if (!key) throw HarnessError("cannot generate a JWK: " + key.error().message);
  return TokenMinter(std::move(*key), std::move(issuer));
}

nlohmann::json TokenMinter::claims(const std::string& subject, const std::string& audience,
                                   std::vector<std::string> sans) const {
  const auto now = unix_seconds(std::chrono::system_clock::now());
  if (sans.empty()) sans = {subject};
  return {{"aud", audience},     {"exp", now + 300}, {"iat", now},   {"iss", issuer_},
          {"jti", random_jti()}, {"nbf", now},       {"sans", sans}, {"sub", subject}};
}

std::string TokenMinter::sign(const nlohmann::json& claims) const { return sign(claims, key_.kid()); }

std::string TokenMinter::sign(const nlohmann::json& claims, const std::string& kid) const {
  const nlohmann::json header = {{"alg", key_.alg()}, {"kid", kid}, {"typ", "JWT"}};
  auto token = jose::sign_compact(header, claims.dump(), key_);
  if (!token) throw HarnessError("cannot sign a token: " + token.error().message);
  return *token;
}

nlohmann::json token_header(const std::string& token) { return token_part(token, 0); }

nlohmann::json token_payload(const std::string& token) { return token_part(token, 1); }

}  // namespace keystep::integration
