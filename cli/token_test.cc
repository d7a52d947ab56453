#include "cli/token.h"

#include <algorithm>
#include <cctype>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/crypto/jose/jws.h"

using namespace keystep;
using namespace keystep::cli;
using nlohmann::json;

namespace {

const common::TimePoint kNow{std::chrono::seconds(1767225600)};

struct Decoded {
  json header;
  json payload;
};

Decoded decode_and_verify(const std::string& token, const jose::Jwk& key) {
  auto jws = jose::parse_compact(token);
  REQUIRE(jws);
  auto public_key = key.public_only();
  REQUIRE(public_key);
  REQUIRE(jose::verify(*jws, *public_key));
  auto payload = jose::payload_json(*jws);
  REQUIRE(payload);
  return {jws->header, *payload};
}

TokenClaims sign_claims() {
  return {.subject = "web.internal",
          .sans = {"web.internal", "10.0.0.1"},
          .audience = "https://ca.internal:9000/1.0/sign",
          .issuer = "admin",
          .root_sha256 = std::string(64, 'a')};
}

}  // namespace

TEST_CASE("sign_token makes step's header and claims, verifiable with the public key", "[cli]") {
  auto key = jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(key);
  auto token = sign_token(sign_claims(), *key, kNow);
  REQUIRE(token);
  auto [header, payload] = decode_and_verify(*token, *key);

  CHECK(header == json{{"alg", "ES256"}, {"kid", key->kid()}, {"typ", "JWT"}});
  CHECK(payload["aud"] == "https://ca.internal:9000/1.0/sign");  // a string, not an array
  CHECK(payload["iat"] == 1767225600);
  CHECK(payload["nbf"] == 1767225600);
  CHECK(payload["exp"] == 1767225600 + 300);
  CHECK(payload["iss"] == "admin");
  CHECK(payload["sub"] == "web.internal");
  CHECK(payload["sans"] == json{"web.internal", "10.0.0.1"});
  CHECK(payload["sha"] == std::string(64, 'a'));
  const std::string jti = payload["jti"];
  CHECK(jti.size() == 64);
  CHECK(std::all_of(jti.begin(), jti.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); }));
}

TEST_CASE("sign_token serializes the payload with sorted keys, as step does", "[cli]") {
  auto key = jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(key);
  auto token = sign_token(sign_claims(), *key, kNow);
  REQUIRE(token);
  auto jws = jose::parse_compact(*token);
  REQUIRE(jws);
  CHECK(jws->payload.rfind("{\"aud\":", 0) == 0);
  CHECK(jws->payload.find("\"exp\"") < jws->payload.find("\"iat\""));
  CHECK(jws->payload.find("\"sha\"") < jws->payload.find("\"sub\""));
}

TEST_CASE("sign_token gives every token its own jti", "[cli]") {
  auto key = jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(key);
  auto a = sign_token(sign_claims(), *key, kNow);
  auto b = sign_token(sign_claims(), *key, kNow);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(decode_and_verify(*a, *key).payload["jti"] != decode_and_verify(*b, *key).payload["jti"]);
}

TEST_CASE("sign_token leaves sans and sha out when empty (revoke tokens)", "[cli]") {
  auto key = jose::Jwk::generate("OKP", 0, "Ed25519");
  REQUIRE(key);
  TokenClaims claims{.subject = "298823824889407197522219929844561545331",
                     .audience = "https://ca.internal/1.0/revoke",
                     .issuer = "admin",
                     .lifetime = std::chrono::seconds(60)};
  auto token = sign_token(claims, *key, kNow);
  REQUIRE(token);
  auto [header, payload] = decode_and_verify(*token, *key);
  CHECK(header["alg"] == "EdDSA");
  CHECK_FALSE(payload.contains("sans"));
  CHECK_FALSE(payload.contains("sha"));
  CHECK(payload["exp"] == 1767225600 + 60);
}

TEST_CASE("sign_token defaults alg and kid of a JWK that has neither", "[cli]") {
  auto generated = jose::Jwk::generate("EC", 0, "P-384");
  REQUIRE(generated);
  auto bare_json = generated->private_json();
  REQUIRE(bare_json);
  bare_json->erase("alg");
  bare_json->erase("kid");
  auto bare = jose::Jwk::from_json(*bare_json);
  REQUIRE(bare);
  auto token = sign_token(sign_claims(), *bare, kNow);
  REQUIRE(token);
  auto header = decode_and_verify(*token, *bare).header;
  CHECK(header["alg"] == "ES384");
  CHECK(header["kid"] == generated->thumbprint());
}

TEST_CASE("sign_token signs with RSA keys", "[cli]") {
  auto key = jose::Jwk::generate("RSA", 2048, "");
  REQUIRE(key);
  auto token = sign_token(sign_claims(), *key, kNow);
  REQUIRE(token);
  CHECK(decode_and_verify(*token, *key).header["alg"] == "RS256");
}

TEST_CASE("sign_token refuses a public key and an empty subject", "[cli]") {
  auto key = jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(key);
  auto public_key = key->public_only();
  REQUIRE(public_key);
  auto without_private = sign_token(sign_claims(), *public_key, kNow);
  REQUIRE_FALSE(without_private);
  CHECK(without_private.error().code == Errc::failed_precondition);

  auto claims = sign_claims();
  claims.subject.clear();
  auto without_subject = sign_token(claims, *key, kNow);
  REQUIRE_FALSE(without_subject);
  CHECK(without_subject.error().code == Errc::invalid_argument);
}
