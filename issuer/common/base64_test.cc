#include "issuer/common/base64.h"

#include <catch2/catch.hpp>

using namespace keystep::common;

TEST_CASE("base64url round-trips every tail length without padding", "[common]") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = base64url_encode(s);
    CHECK(enc.find('=') == std::string::npos);
    auto dec = base64url_decode(enc);
    REQUIRE(dec);
    CHECK(to_string(*dec) == s);
  }
  CHECK(base64url_encode(std::string("\xfb\xff")) == "-_8");
}

TEST_CASE("base64 standard encodes RFC 4648 vectors", "[common]") {
  CHECK(base64_encode(to_bytes("foobar")) == "Zm9vYmFy");
  CHECK(base64_encode(to_bytes("fooba")) == "Zm9vYmE=");
  CHECK(base64_encode(to_bytes("foob")) == "Zm9vYg==");
  auto dec = base64_decode("Zm9vYg==");
  REQUIRE(dec);
  CHECK(to_string(*dec) == "foob");
}

TEST_CASE("base64 decoders reject malformed input", "[common]") {
  CHECK_FALSE(base64url_decode("ab=c"));
  CHECK_FALSE(base64url_decode("a"));
  CHECK_FALSE(base64url_decode("ab+/"));
  CHECK_FALSE(base64_decode("Zm9"));
  CHECK_FALSE(base64url_decode("Zh"));  // non-zero trailing bits
}

TEST_CASE("hex_encode is lowercase", "[common]") {
  keystep::common::Bytes b{0x00, 0xab, 0xff};
  CHECK(hex_encode(b) == "00abff");
}
