// NetworkValidator's dispatch; each challenge type has its own test file
// (http01_test.cc, dns01_test.cc, tls_alpn01_test.cc).

#include <catch2/catch.hpp>

#include "issuer/acme/validator.h"

using namespace keystep::acme;

namespace {

std::optional<Problem> validate(const ChallengeTarget& target) {
  return NetworkValidator().validate(ValidationOptions{}, target);
}

}  // namespace

TEST_CASE("validator rejects an unknown challenge type", "[acme][validator]") {
  auto problem = validate({"http-02", "dns", "a.example", "tok", "tok.thumb"});
  REQUIRE(problem);
  CHECK(problem->type == "malformed");
  CHECK(problem->status == 400);
  CHECK(problem->detail == "unknown challenge type \"http-02\"");
}

TEST_CASE("validator rejects an unknown identifier type", "[acme][validator]") {
  auto problem = validate({kHttp01, "email", "a@example.com", "tok", "tok.thumb"});
  REQUIRE(problem);
  CHECK(problem->type == "malformed");
}

TEST_CASE("validator rejects an ip identifier that is not an IP", "[acme][validator]") {
  for (const char* type : {kHttp01, kTlsAlpn01}) {
    auto problem = validate({type, "ip", "a.example", "tok", "tok.thumb"});
    REQUIRE(problem);
    CHECK(problem->type == "malformed");
  }
}

TEST_CASE("validator rejects an empty identifier", "[acme][validator]") {
  auto problem = validate({kDns01, "dns", "", "tok", "tok.thumb"});
  REQUIRE(problem);
  CHECK(problem->type == "malformed");
}
