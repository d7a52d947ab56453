#include "issuer/crypto/key.h"

#include <catch2/catch.hpp>

#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::crypto;

TEST_CASE("check_leaf_key accepts the supported key types", "[crypto]") {
  CHECK(check_leaf_key(testing::make_key("EC", "P-256").get()));
  CHECK(check_leaf_key(testing::make_key("EC", "P-384").get()));
  CHECK(check_leaf_key(testing::make_key("OKP").get()));
  CHECK(check_leaf_key(testing::make_key("RSA", "", 2048).get()));
}

TEST_CASE("check_leaf_key rejects weak RSA and unsupported curves with the reason", "[crypto]") {
  auto rsa = check_leaf_key(testing::make_key("RSA", "", 1024).get());
  REQUIRE_FALSE(rsa);
  CHECK(rsa.error().code == Errc::permission_denied);
  CHECK(rsa.error().message == "RSA key of 1024 bits is too weak: at least 2048 bits are required");

  auto p192 = check_leaf_key(testing::make_key("EC", "P-192").get());
  REQUIRE_FALSE(p192);
  CHECK(p192.error().code == Errc::invalid_argument);
  CHECK(p192.error().message.find("EC P-192") != std::string::npos);

  auto p521 = check_leaf_key(testing::make_key("EC", "P-521").get());
  REQUIRE_FALSE(p521);
}

TEST_CASE("private keys round-trip through encrypted PKCS#8 PEM", "[crypto]") {
  auto key = testing::make_key();
  SecretBytes password("correct horse");
  auto pem = private_key_to_pem(key.get(), &password);
  REQUIRE(pem);
  CHECK(pem->view().find("ENCRYPTED PRIVATE KEY") != std::string_view::npos);

  auto back = private_key_from_pem(pem->view(), &password);
  REQUIRE(back);
  CHECK(same_public_key(back->get(), key.get()));

  SecretBytes wrong("wrong");
  auto bad = private_key_from_pem(pem->view(), &wrong);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::permission_denied);

  auto none = private_key_from_pem(pem->view());
  REQUIRE_FALSE(none);
  CHECK(none.error().message == "private key is encrypted: give its password file");
}

TEST_CASE("parse_key_spec validates the flag combinations", "[crypto]") {
  CHECK(parse_key_spec("", "", 0)->crv == "P-256");
  CHECK(parse_key_spec("RSA", "", 0)->bits == 2048);
  CHECK(parse_key_spec("OKP", "", 0)->crv == "Ed25519");
  CHECK_FALSE(parse_key_spec("RSA", "", 1024));
  CHECK_FALSE(parse_key_spec("EC", "P-192", 0));
  CHECK_FALSE(parse_key_spec("DSA", "", 0));
  CHECK(describe_key(testing::make_key("RSA", "", 2048).get()) == "RSA 2048");
  CHECK(describe_key(testing::make_key().get()) == "EC P-256");
}
