#include "issuer/acme/signed_request.h"

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"

using namespace keystep;
using nlohmann::json;
using Catch::Matchers::Contains;

namespace {

constexpr const char* kUrl = "https://ca.internal/acme/acme/new-order";
constexpr const char* kNonce = "b3JkZXItbm9uY2U";

// flattened signs payload under header with key, as an ACME client sends it.
std::string flattened(const json& header, const std::string& payload, const jose::Jwk& key) {
  auto compact = *jose::sign_compact(header, payload, key);
  auto first = compact.find('.'), second = compact.rfind('.');
  return json{{"protected", compact.substr(0, first)},
              {"payload", compact.substr(first + 1, second - first - 1)},
              {"signature", compact.substr(second + 1)}}
      .dump();
}

json kid_header(const jose::Jwk& key) {
  return {{"alg", key.alg()}, {"kid", "https://ca.internal/acme/acme/account/1"}, {"nonce", kNonce}, {"url", kUrl}};
}

acme::Problem problem_of(const std::string& body, acme::KeyReference ref = acme::KeyReference::kid,
                         const std::string& url = kUrl) {
  auto r = acme::parse_signed_request(body, url, ref);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("acme: a kid request with ES256, RS256 or EdDSA parses and verifies with the account key") {
  for (auto [kty, size, crv] : {std::tuple{"EC", 0, "P-256"}, std::tuple{"RSA", 2048, ""}, std::tuple{"OKP", 0, "Ed25519"}}) {
    auto key = *jose::Jwk::generate(kty, size, crv);
    INFO(key.alg());
    auto r = acme::parse_signed_request(flattened(kid_header(key), R"({"identifiers":[]})", key), kUrl,
                                        acme::KeyReference::kid);
    REQUIRE(r);
    CHECK(r->kid == "https://ca.internal/acme/acme/account/1");
    CHECK(r->nonce == kNonce);
    CHECK_FALSE(r->post_as_get());
    CHECK(r->payload_json()->contains("identifiers"));
    CHECK_FALSE(acme::verify_signature(*r, key).has_value());
    auto other = *jose::Jwk::generate(kty, size, crv);
    auto wrong = acme::verify_signature(*r, other);
    REQUIRE(wrong.has_value());
    CHECK(wrong->type == "malformed");
  }
}

TEST_CASE("acme: a jwk request carries the public key; POST-as-GET has an empty payload") {
  auto key = *jose::Jwk::generate("EC", 0, "P-256");
  json header = {{"alg", "ES256"}, {"jwk", key.public_json()}, {"nonce", kNonce}, {"url", kUrl}};
  auto r = acme::parse_signed_request(flattened(header, "", key), kUrl, acme::KeyReference::jwk);
  REQUIRE(r);
  REQUIRE(r->jwk.has_value());
  CHECK(r->jwk->thumbprint() == key.thumbprint());
  CHECK(r->post_as_get());
  CHECK(r->payload_json().error().type == "malformed");
  CHECK_FALSE(acme::verify_signature(*r, *r->jwk).has_value());
}

TEST_CASE("acme: malformed, mis-addressed, nonce-less and badly signed requests get the RFC 8555 problem") {
  auto key = *jose::Jwk::generate("EC", 0, "P-256");
  const std::string good = flattened(kid_header(key), "{}", key);

  CHECK(problem_of("not json").type == "malformed");
  CHECK(problem_of("[]").type == "malformed");
  auto with_header = json::parse(good);
  with_header["header"] = json::object();
  CHECK_THAT(problem_of(with_header.dump()).detail, Contains("flattened"));
  auto no_sig = json::parse(good);
  no_sig.erase("signature");
  CHECK(problem_of(no_sig.dump()).type == "malformed");
  auto not_b64 = json::parse(good);
  not_b64["payload"] = "e30=";  // padding is not base64url
  CHECK(problem_of(not_b64.dump()).type == "malformed");
  CHECK(problem_of(std::string(acme::kMaxRequestBytes + 1, ' ')).type == "malformed");

  // The URL must be the one the request was sent to.
  auto elsewhere = problem_of(good, acme::KeyReference::kid, "https://ca.internal/acme/acme/new-account");
  CHECK(elsewhere.type == "unauthorized");
  CHECK(elsewhere.status == 403);
  auto no_url = kid_header(key);
  no_url.erase("url");
  CHECK(problem_of(flattened(no_url, "{}", key)).type == "malformed");

  auto no_nonce = kid_header(key);
  no_nonce.erase("nonce");
  CHECK(problem_of(flattened(no_nonce, "{}", key)).type == "badNonce");
  auto bad_nonce = kid_header(key);
  bad_nonce["nonce"] = "not/base64url";
  CHECK(problem_of(flattened(bad_nonce, "{}", key)).type == "badNonce");

  // Exactly one of jwk and kid, the one the resource expects.
  auto both = kid_header(key);
  both["jwk"] = key.public_json();
  CHECK(problem_of(flattened(both, "{}", key)).type == "malformed");
  CHECK_THAT(problem_of(good, acme::KeyReference::jwk).detail, Contains("embedded jwk"));
  json jwk_header = {{"alg", "ES256"}, {"jwk", key.public_json()}, {"nonce", kNonce}, {"url", kUrl}};
  CHECK_THAT(problem_of(flattened(jwk_header, "{}", key), acme::KeyReference::kid).detail, Contains("kid"));
  auto private_jwk = jwk_header;
  private_jwk["jwk"] = *key.private_json();
  CHECK_THAT(problem_of(flattened(private_jwk, "{}", key), acme::KeyReference::jwk).detail, Contains("public key"));

  // Algorithms: ES256, RS256 and EdDSA only; the problem lists them.
  auto es384 = *jose::Jwk::generate("EC", 0, "P-384");
  auto p384 = problem_of(flattened(kid_header(es384), "{}", es384));
  CHECK(p384.type == "badSignatureAlgorithm");
  CHECK(p384.to_json()["algorithms"] == json({"ES256", "RS256", "EdDSA"}));
  auto header = json::parse(common::to_string(*common::base64url_decode(json::parse(good)["protected"].get<std::string>())));
  header["alg"] = "none";
  auto unsigned_body = json::parse(good);
  unsigned_body["protected"] = common::base64url_encode(header.dump());
  CHECK(problem_of(unsigned_body.dump()).type == "malformed");
}

TEST_CASE("acme: problem documents carry the ACME error namespace, status and subproblems") {
  auto p = acme::malformed("bad");
  p.subproblems.push_back({"rejectedIdentifier", "not allowed", 400, {}, {{"type", "dns"}, {"value", "evil.example"}}});
  auto j = p.to_json();
  CHECK(j["type"] == "urn:ietf:params:acme:error:malformed");
  CHECK(j["status"] == 400);
  CHECK(j["detail"] == "bad");
  CHECK(j["subproblems"][0]["type"] == "urn:ietf:params:acme:error:rejectedIdentifier");
  CHECK(j["subproblems"][0]["identifier"]["value"] == "evil.example");
  CHECK(acme::unauthorized("x").status == 403);
  CHECK(acme::server_internal("x").status == 500);
}
