#include "cli/revocation_reason.h"

#include <catch2/catch.hpp>

using namespace keystep::cli;

TEST_CASE("reason_code_by_name knows RFC 5280's reasons", "[cli][revoke]") {
  CHECK(reason_code_by_name("unspecified") == 0);
  CHECK(reason_code_by_name("keyCompromise") == 1);
  CHECK(reason_code_by_name("cACompromise") == 2);
  CHECK(reason_code_by_name("affiliationChanged") == 3);
  CHECK(reason_code_by_name("superseded") == 4);
  CHECK(reason_code_by_name("cessationOfOperation") == 5);
  CHECK(reason_code_by_name("certificateHold") == 6);
  CHECK(reason_code_by_name("removeFromCRL") == 8);
  CHECK(reason_code_by_name("privilegeWithdrawn") == 9);
  CHECK(reason_code_by_name("aACompromise") == 10);
}

TEST_CASE("reason_code_by_name rejects other names", "[cli][revoke]") {
  CHECK_FALSE(reason_code_by_name(""));
  CHECK_FALSE(reason_code_by_name("KeyCompromise"));
  CHECK_FALSE(reason_code_by_name("key compromise"));
  CHECK_FALSE(reason_code_by_name("1"));
}

TEST_CASE("reason_names lists each name with its code", "[cli][revoke]") {
  const std::string names = reason_names();
  CHECK(names.rfind("unspecified (0), keyCompromise (1), ", 0) == 0);
  CHECK(names.find("removeFromCRL (8)") != std::string::npos);
  CHECK(names.find("(7)") == std::string::npos);
}
