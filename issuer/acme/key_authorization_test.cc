#include "issuer/acme/key_authorization.h"

#include <catch2/catch.hpp>

using namespace keystep;

TEST_CASE("acme key authorization: RFC 7638's example key gives its thumbprint, and the dns-01 value is its digest") {
  // The RSA key of RFC 7638 §3.1, whose thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
  auto key = jose::Jwk::from_json(nlohmann::json{
      {"kty", "RSA"},
      {"n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}});
  REQUIRE(key);
  CHECK(key->thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  const std::string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
  const auto ka = acme::key_authorization(token, *key);
  CHECK(ka == token + ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  // base64url(SHA-256(ka)), as `openssl dgst -sha256 -binary | base64` (url alphabet, unpadded) gives it.
  const auto txt = acme::dns01_txt_value(ka);
  CHECK(txt == "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
  const auto digest = acme::tls_alpn01_digest(ka);
  CHECK(digest[0] == 0x65);  // 'Z' 'T' 'R' 'x' -> 0x65 0x34 0x71
  CHECK(digest[1] == 0x34);
  CHECK(digest[2] == 0x71);
  CHECK(acme::dns01_txt_value(ka + "x") != txt);
}

TEST_CASE("acme tokens are at least 128 bits of base64url") {
  CHECK(acme::is_valid_token("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
  CHECK_FALSE(acme::is_valid_token("short"));
  CHECK_FALSE(acme::is_valid_token("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ/PCt92wr+oA"));
  CHECK_FALSE(acme::is_valid_token("../../../../etc/passwd-and-more-chars"));
}
