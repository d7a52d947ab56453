#pragma once
// TokenMinter signs JWK one-time tokens with any claims a test wants, to
// probe the server's token checks. claims() starts from the exact shape
// `step ca token` produces (reference §2.2); tests then change one claim.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/crypto/jose/jwk.h"

namespace keystep::integration {

class TokenMinter {
 public:
  // load reads a plain private JWK (as `keystep init --no-password` writes
  // it); issuer is the provisioner name. Throws HarnessError.
  [[nodiscard]] static TokenMinter load(const std::filesystem::path& private_jwk, std::string issuer);
  // generate makes a fresh P-256 key that no CA knows.
  [[nodiscard]] static TokenMinter generate(std::string issuer);

  // claims: aud, exp = now + 5m, iat = nbf = now, iss, jti (64 hex), sans
  // (default [subject]), sub.
  [[nodiscard]] nlohmann::json claims(const std::string& subject, const std::string& audience,
                                      std::vector<std::string> sans = {}) const;

  // sign returns the compact JWS with header {"alg","kid","typ":"JWT"};
  // kid defaults to the key's own.
  [[nodiscard]] std::string sign(const nlohmann::json& claims) const;
  [[nodiscard]] std::string sign(const nlohmann::json& claims, const std::string& kid) const;

  [[nodiscard]] const jose::Jwk& key() const { return key_; }

 private:
  TokenMinter(jose::Jwk key, std::string issuer) : key_(std::move(key)), issuer_(std::move(issuer)) {}
  jose::Jwk key_;
  std::string issuer_;
};

// unix_seconds is t as a JWT NumericDate.
[[nodiscard]] std::int64_t unix_seconds(std::chrono::system_clock::time_point t);

// token_header and token_payload decode the JSON parts of a compact JWS.
[[nodiscard]] nlohmann::json token_header(const std::string& token);
[[nodiscard]] nlohmann::json token_payload(const std::string& token);

}  // namespace keystep::integration
