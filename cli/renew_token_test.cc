#include "cli/renew_token.h"

#include <algorithm>
#include <cctype>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/crypto/jose/jws.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::cli;
using nlohmann::json;

namespace {

const common::TimePoint kNow{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z
const std::string kAudience = "https://ca.internal:9000/1.0/renew";

// make_chain returns leaf (CN web.internal, for leaf_key) and intermediate.
std::vector<crypto::Certificate> make_chain(const keystep::testing::TestPki& pki, EVP_PKEY* leaf_key) {
  auto intermediate = crypto::Certificate::from_pem(pki.intermediate_pem);
  REQUIRE(intermediate);
  crypto::CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name("web.internal"));
  REQUIRE(b.set_issuer(*intermediate));
  REQUIRE(b.set_validity(kNow - std::chrono::hours(2), kNow - std::chrono::hours(1)));  // expired
  REQUIRE(b.set_public_key(leaf_key));
  REQUIRE(b.add_key_usage(KU_DIGITAL_SIGNATURE));
  REQUIRE(b.add_ext_key_usage({NID_server_auth, NID_client_auth}));
  auto signed_leaf = b.sign(pki.intermediate_key.get());
  REQUIRE(signed_leaf);
  // Parsed back, as from a CRT file: its public_key() has no private part.
  auto leaf = crypto::Certificate::from_pem(signed_leaf->pem());
  REQUIRE(leaf);
  return {*leaf, *intermediate};
}

}  // namespace

TEST_CASE("sign_renew_token carries the chain and is signed by the leaf's key", "[cli][renew]") {
  const auto [kty, crv, alg] = GENERATE(table<std::string, std::string, std::string>(
      {{"EC", "P-256", "ES256"}, {"EC", "P-384", "ES384"}, {"OKP", "", "EdDSA"}}));
  INFO(alg);
  auto pki = keystep::testing::make_pki();
  auto key = keystep::testing::make_key(kty, crv);
  const auto chain = make_chain(pki, key.get());

  auto token = sign_renew_token(chain, key.get(), kAudience, kNow);
  REQUIRE(token);
  auto jws = jose::parse_compact(*token);
  REQUIRE(jws);
  auto leaf_public_key = jose::Jwk::from_pkey(chain.front().public_key());
  REQUIRE(leaf_public_key);
  CHECK_FALSE(leaf_public_key->has_private());
  CHECK(jose::verify(*jws, *leaf_public_key));

  CHECK(jws->header["alg"] == alg);
  CHECK(jws->header["typ"] == "JWT");
  CHECK(jws->header["kid"] == leaf_public_key->thumbprint());
  REQUIRE(jws->header["x5cInsecure"].is_array());
  REQUIRE(jws->header["x5cInsecure"].size() == 2);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto der = common::base64_decode(jws->header["x5cInsecure"][i].get<std::string>());  // std alphabet
    REQUIRE(der);
    CHECK(*der == chain[i].der());
  }

  auto payload = jose::payload_json(*jws);
  REQUIRE(payload);
  CHECK((*payload)["aud"] == kAudience);  // a string, not an array
  CHECK((*payload)["iss"] == "step-ca-client/1.0");
  CHECK((*payload)["sub"] == "web.internal");
  CHECK((*payload)["iat"] == 1767225600);
  CHECK((*payload)["nbf"] == 1767225600);
  CHECK((*payload)["exp"] == 1767225600 + 300);
  const std::string jti = (*payload)["jti"];
  CHECK(jti.size() == 64);
  CHECK(std::all_of(jti.begin(), jti.end(), [](unsigned char c) { return std::isxdigit(c) && !std::isupper(c); }));
  CHECK(payload->size() == 7);
}

TEST_CASE("sign_renew_token gives every token its own jti", "[cli][renew]") {
  auto pki = keystep::testing::make_pki();
  auto key = keystep::testing::make_key();
  const auto chain = make_chain(pki, key.get());
  auto first = sign_renew_token(chain, key.get(), kAudience, kNow);
  auto second = sign_renew_token(chain, key.get(), kAudience, kNow);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first != *second);
}

TEST_CASE("sign_renew_token refuses a key that is not the leaf's", "[cli][renew]") {
  auto pki = keystep::testing::make_pki();
  auto key = keystep::testing::make_key();
  auto other = keystep::testing::make_key();
  const auto chain = make_chain(pki, key.get());
  auto token = sign_renew_token(chain, other.get(), kAudience, kNow);
  REQUIRE_FALSE(token);
  CHECK(token.error().code == Errc::failed_precondition);
  CHECK_FALSE(sign_renew_token({}, key.get(), kAudience, kNow));
  CHECK_FALSE(sign_renew_token(chain, key.get(), "", kNow));
}
