#include "issuer/crypto/jose/jwk.h"

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/testdata/vectors.h"

using keystep::Errc;
using keystep::common::base64url_decode;
using keystep::common::base64url_encode;
using keystep::crypto::EvpPkeyPtr;
using keystep::jose::Jwk;
using keystep::jose::KeyType;
using nlohmann::json;

namespace {

// RFC 7638 §3.1.
constexpr std::string_view kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
    "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
    "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJz"
    "KnqDKgw";

json fixture_jwk(std::string_view alg) {
  for (const auto& v : keystep::jose::testdata::kTokens) {
    if (v.alg == alg) return json::parse(v.jwk);
  }
  FAIL("no fixture for " << alg);
  return {};
}

Jwk must(keystep::Result<Jwk> jwk) {
  INFO((jwk ? "" : jwk.error().message));
  REQUIRE(jwk);
  return std::move(*jwk);
}

std::size_t decoded_size(const json& j, const char* name) {
  auto bytes = base64url_decode(j.at(name).get<std::string>());
  REQUIRE(bytes);
  return bytes->size();
}

Jwk make_key(std::string_view kty, std::string_view crv) {
  if (kty == "RSA") return must(Jwk::from_json(fixture_jwk("RS256")));
  return must(Jwk::generate(kty, 0, crv));
}

void check_rejected(const json& j, std::string_view why) {
  INFO(why << ": " << j.dump());
  auto jwk = Jwk::from_json(j);
  REQUIRE_FALSE(jwk);
  CHECK(jwk.error().code == Errc::invalid_argument);
}

}  // namespace

TEST_CASE("Jwk private JSON round-trips for every key type", "[jose]") {
  auto [kty, crv] = GENERATE(std::pair<std::string_view, std::string_view>{"EC", "P-256"},
                             std::pair<std::string_view, std::string_view>{"EC", "P-384"},
                             std::pair<std::string_view, std::string_view>{"EC", "P-521"},
                             std::pair<std::string_view, std::string_view>{"OKP", "Ed25519"},
                             std::pair<std::string_view, std::string_view>{"RSA", ""});
  INFO(kty << " " << crv);
  Jwk key = make_key(kty, crv);
  auto priv = key.private_json();
  REQUIRE(priv);
  Jwk parsed = must(Jwk::from_json(*priv));
  CHECK(parsed.has_private());
  CHECK(parsed.private_json().value() == *priv);
  CHECK(parsed.public_json() == key.public_json());
  CHECK(parsed.thumbprint() == key.thumbprint());
  CHECK(parsed.kid() == key.kid());
  CHECK(parsed.alg() == key.alg());
  CHECK(parsed.use() == "sig");
  CHECK(priv->at("kty") == std::string(kty));
  if (kty == "EC") {
    CHECK(decoded_size(*priv, "x") == key.coordinate_size());
    CHECK(decoded_size(*priv, "y") == key.coordinate_size());
    CHECK(decoded_size(*priv, "d") == key.coordinate_size());
  }
  if (kty == "OKP") {
    CHECK(decoded_size(*priv, "x") == 32);
    CHECK(decoded_size(*priv, "d") == 32);
  }
  if (kty == "RSA") {
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) CHECK(priv->contains(member));
  }
}

TEST_CASE("Jwk public JSON round-trips without a private part", "[jose]") {
  auto [kty, crv] = GENERATE(std::pair<std::string_view, std::string_view>{"EC", "P-256"},
                             std::pair<std::string_view, std::string_view>{"OKP", "Ed25519"},
                             std::pair<std::string_view, std::string_view>{"RSA", ""});
  Jwk key = make_key(kty, crv);
  json pub = key.public_json();
  CHECK_FALSE(pub.contains("d"));
  Jwk parsed = must(Jwk::from_json(pub));
  CHECK_FALSE(parsed.has_private());
  CHECK(parsed.public_json() == pub);
  auto priv = parsed.private_json();
  REQUIRE_FALSE(priv);
  CHECK(priv.error().code == Errc::failed_precondition);
}

TEST_CASE("Jwk keeps the leading zero bytes of EC coordinates and d", "[jose]") {
  json fixture = fixture_jwk("ES256");  // x and d both start with a zero byte
  REQUIRE(base64url_decode(fixture["x"].get<std::string>())->front() == 0);
  REQUIRE(base64url_decode(fixture["d"].get<std::string>())->front() == 0);
  Jwk key = must(Jwk::from_json(fixture));
  CHECK(key.private_json().value() == fixture);
  CHECK(key.thumbprint() == fixture["kid"].get<std::string>());
}

TEST_CASE("Jwk thumbprint matches the RFC 7638 example", "[jose]") {
  Jwk key = must(
      Jwk::from_json({{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}}));
  CHECK(key.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  CHECK(key.kid() == "2011-04-29");  // from_json keeps the kid it was given
}

TEST_CASE("Jwk thumbprint matches thumbprints computed by Python", "[jose]") {
  for (const auto& v : keystep::jose::testdata::kTokens) {
    INFO(v.alg);
    CHECK(must(Jwk::from_json(json::parse(v.jwk))).thumbprint() == v.thumbprint);
  }
}

TEST_CASE("Jwk thumbprint of the step reference provisioner key equals its kid", "[jose]") {
  // stepca-api.md §2.1: a key as `step` writes it into ca.json.
  Jwk key = must(Jwk::from_json(json::parse(R"({"use":"sig","kty":"EC",
      "kid":"4UELJx8e0aS9m0CH3fZ0EB7D5aUPICb759zALHFejvc","crv":"P-256","alg":"ES256",
      "x":"7ZdAAMZCFU4XwgblI5RfZouBi8lYmF6DlZusNNnsbm8","y":"sQr2JdzwD2fgyrymBEXWsxDxFNjjqN64qLLSbLdLZ9Y"})")));
  CHECK(key.thumbprint() == key.kid());
}

TEST_CASE("Jwk exports RSA integers as minimal big-endian", "[jose]") {
  auto n = base64url_decode(kRfc7638N);
  REQUIRE(n);
  n->insert(n->begin(), 0);  // a zero-padded modulus is accepted on input
  Jwk key = must(Jwk::from_json({{"kty", "RSA"}, {"n", base64url_encode(*n)}, {"e", "AAEAAQ"}}));
  CHECK(key.public_json()["n"] == std::string(kRfc7638N));
  CHECK(key.public_json()["e"] == "AQAB");
  CHECK(key.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_CASE("Jwk::from_pkey defaults alg and use and sets kid to the thumbprint", "[jose]") {
  struct Case {
    std::string_view kty, crv, alg;
  };
  auto c = GENERATE(Case{"EC", "P-256", "ES256"}, Case{"EC", "P-384", "ES384"}, Case{"EC", "P-521", "ES512"},
                    Case{"OKP", "Ed25519", "EdDSA"}, Case{"RSA", "", "RS256"});
  INFO(c.kty << " " << c.crv);
  Jwk source = make_key(c.kty, c.crv);
  Jwk key = must(Jwk::from_pkey(source.pkey()));
  CHECK(key.alg() == c.alg);
  CHECK(key.use() == "sig");
  CHECK(key.kid() == key.thumbprint());
  CHECK(key.has_private());
  CHECK(key.crv() == c.crv);
  Jwk pub = must(Jwk::from_pkey(must(source.public_only()).pkey()));
  CHECK_FALSE(pub.has_private());
  CHECK(pub.kid() == key.kid());
}

TEST_CASE("Jwk::from_pkey accepts an explicit alg only if it suits the key", "[jose]") {
  Jwk rsa = make_key("RSA", "");
  CHECK(must(Jwk::from_pkey(rsa.pkey(), "PS384")).alg() == "PS384");
  Jwk p256 = make_key("EC", "P-256");
  auto wrong = Jwk::from_pkey(p256.pkey(), "ES384");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == Errc::invalid_argument);
  auto null = Jwk::from_pkey(nullptr);
  REQUIRE_FALSE(null);
  CHECK(null.error().code == Errc::invalid_argument);
}

TEST_CASE("Jwk::from_json rejects an EC point that is not on the curve", "[jose]") {
  json pub = make_key("EC", "P-256").public_json();
  auto y = base64url_decode(pub["y"].get<std::string>());
  REQUIRE(y);
  y->back() ^= 1;
  pub["y"] = base64url_encode(*y);
  check_rejected(pub, "point off the curve");
}

TEST_CASE("Jwk::from_json rejects malformed keys", "[jose]") {
  const json ec = make_key("EC", "P-256").private_json().value();
  const json okp = make_key("OKP", "Ed25519").public_json();
  const json rsa = fixture_jwk("RS256");
  auto with = [](json j, const char* name, json value) {
    j[name] = std::move(value);
    return j;
  };
  auto without = [](json j, const char* name) {
    j.erase(name);
    return j;
  };
  const std::string b64_31 = base64url_encode(std::string(31, 'a'));

  check_rejected(json::array(), "not an object");
  check_rejected(without(ec, "kty"), "no kty");
  check_rejected(with(ec, "kty", "oct"), "symmetric kty");
  check_rejected(with(ec, "kty", 1), "numeric kty");
  check_rejected(with(ec, "crv", "P-192"), "unsupported curve");
  check_rejected(without(ec, "x"), "no x");
  check_rejected(with(ec, "x", 42), "numeric x");
  check_rejected(with(ec, "x", "a+b/"), "x not base64url");
  check_rejected(with(ec, "x", b64_31), "short x");
  check_rejected(with(ec, "d", b64_31), "short d");
  check_rejected(with(ec, "kid", json::array()), "non-string kid");
  check_rejected(with(ec, "alg", "ES384"), "alg of another curve");
  check_rejected(with(okp, "crv", "X25519"), "key agreement curve");
  check_rejected(with(okp, "x", b64_31), "short Ed25519 x");
  check_rejected(with(rsa, "n", "AQAB"), "tiny modulus");
  check_rejected(with(rsa, "alg", "EdDSA"), "alg of another key type");
  check_rejected(with(rsa, "e", "AQ"), "exponent 1");
  check_rejected(with(rsa, "e", "AQAC"), "even exponent");
  check_rejected(without(rsa, "qi"), "private key without qi");
  check_rejected(with(rsa, "oth", json::array()), "multi-prime");
  auto n = base64url_decode(rsa["n"].get<std::string>()).value();
  n.back() &= 0xfe;
  check_rejected(with(without(rsa, "d"), "n", base64url_encode(n)), "even modulus");
}

TEST_CASE("Jwk::from_json rejects a private key that does not match its public key", "[jose]") {
  json ec = make_key("EC", "P-256").private_json().value();
  ec["d"] = make_key("EC", "P-256").private_json().value()["d"];
  check_rejected(ec, "EC d of another key");

  json okp = make_key("OKP", "Ed25519").private_json().value();
  okp["d"] = make_key("OKP", "Ed25519").private_json().value()["d"];
  check_rejected(okp, "Ed25519 d of another key");

  json rsa = fixture_jwk("RS256");
  rsa["p"] = rsa["q"];
  check_rejected(rsa, "RSA primes that do not multiply to n");
}

TEST_CASE("Jwk::public_only drops the private part and keeps kid, alg and use", "[jose]") {
  Jwk key = must(Jwk::from_json(fixture_jwk("ES256")));
  Jwk pub = must(key.public_only());
  CHECK_FALSE(pub.has_private());
  CHECK(pub.kid() == key.kid());
  CHECK(pub.alg() == "ES256");
  CHECK(pub.use() == "sig");
  CHECK(pub.public_json() == key.public_json());
}

TEST_CASE("Jwk::generate rejects unsupported key types, curves and sizes", "[jose]") {
  for (auto [kty, size, crv] : {std::tuple<std::string_view, int, std::string_view>{"oct", 0, ""},
                                {"EC", 0, "P-192"},
                                {"EC", 0, "Ed25519"},
                                {"OKP", 0, "X25519"},
                                {"RSA", 1024, ""},
                                {"RSA", 16384, ""}}) {
    INFO(kty << " " << size << " " << crv);
    auto key = Jwk::generate(kty, size, crv);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == Errc::invalid_argument);
  }
}

TEST_CASE("Jwk::generate makes an RSA key of the requested size", "[jose]") {
  Jwk key = must(Jwk::generate("RSA", 2048, ""));
  CHECK(key.key_type() == KeyType::rsa);
  CHECK(EVP_PKEY_get_bits(key.pkey()) == 2048);
  CHECK(key.alg() == "RS256");
  CHECK(key.has_private());
  CHECK(key.public_json()["e"] == "AQAB");
}

TEST_CASE("Jwk::is_compatible_alg pins each algorithm to its key type and curve", "[jose]") {
  Jwk p256 = make_key("EC", "P-256");
  Jwk p384 = make_key("EC", "P-384");
  Jwk p521 = make_key("EC", "P-521");
  Jwk ed = make_key("OKP", "Ed25519");
  Jwk rsa = make_key("RSA", "");
  CHECK(p256.is_compatible_alg("ES256"));
  CHECK_FALSE(p256.is_compatible_alg("ES384"));
  CHECK(p384.is_compatible_alg("ES384"));
  CHECK_FALSE(p384.is_compatible_alg("ES256"));
  CHECK(p521.is_compatible_alg("ES512"));
  CHECK(ed.is_compatible_alg("EdDSA"));
  CHECK_FALSE(ed.is_compatible_alg("ES256"));
  for (std::string_view alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) CHECK(rsa.is_compatible_alg(alg));
  for (std::string_view alg : {"HS256", "none", "ES256", "EdDSA", "RS1", ""}) CHECK_FALSE(rsa.is_compatible_alg(alg));
}

TEST_CASE("Jwk copies share the key and outlive the original", "[jose]") {
  auto original = std::make_unique<Jwk>(make_key("EC", "P-256"));
  EVP_PKEY* pkey = original->pkey();
  Jwk copy = *original;
  original.reset();
  CHECK(copy.pkey() == pkey);
  CHECK(copy.has_private());
  CHECK(copy.kid() == copy.thumbprint());
}
