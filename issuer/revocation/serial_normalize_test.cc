#include "issuer/revocation/serial.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::revocation;

TEST_CASE("normalize_serial keeps a decimal serial", "[revocation]") {
  CHECK(normalize_serial("308893286343609293989051180431574390766") ==
        std::string("308893286343609293989051180431574390766"));
  CHECK(normalize_serial("10") == std::string("10"));
  CHECK(normalize_serial("0") == std::string("0"));
  CHECK(normalize_serial("007") == std::string("7"));  // decimal, not Go's octal
}

TEST_CASE("normalize_serial turns 0x hex into decimal", "[revocation]") {
  CHECK(normalize_serial("0x10") == std::string("16"));
  CHECK(normalize_serial("0XfF") == std::string("255"));
  CHECK(normalize_serial("0xE862B2C5A4A8E7C4F0B4B7B6B5D5E5F5") ==
        std::string("308893366042054096576649115531795097077"));
  // 20 octets, the RFC 5280 maximum.
  CHECK(normalize_serial("0x" + std::string(40, 'f')) ==
        std::string("1461501637330902918203684832716283019655932542975"));
}

TEST_CASE("normalize_serial rejects what is not a serial number", "[revocation]") {
  for (const std::string bad : {"", "0x", "-5", "+5", " 5", "5 ", "12a", "0xg1", "de:ad:be:ef", "0b101", "0o17",
                                "1_000", "x10"}) {
    INFO(bad);
    auto serial = normalize_serial(bad);
    REQUIRE_FALSE(serial);
    CHECK(serial.error().code == Errc::invalid_argument);
  }
  auto long_one = normalize_serial(std::string(65, '1'));
  REQUIRE_FALSE(long_one);
  CHECK(long_one.error().message.find("is not a serial number: use decimal digits, or hex digits after 0x") !=
        std::string::npos);
}
