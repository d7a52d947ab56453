#include "issuer/provisioners/jwk/token_claims.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::provisioners;
using nlohmann::json;

namespace {
const common::TimePoint kNow{std::chrono::seconds(1'000'000)};
}

TEST_CASE("check_token_times applies the leeway and requires a numeric exp", "[jwk]") {
  CHECK(*check_token_times({{"exp", 1'000'100}}, kNow) == common::TimePoint(std::chrono::seconds(1'000'100)));
  CHECK(check_token_times({{"exp", 1'000'000 - 59}}, kNow));  // inside the leeway
  CHECK(check_token_times({{"exp", 1'000'000 - 61}}, kNow).error().message == "token is expired (exp)");
  CHECK(check_token_times({{"exp", 1'000'100}, {"nbf", 1'000'061}}, kNow).error().message ==
        "token not valid yet (nbf)");
  CHECK(check_token_times({{"exp", 1'000'100}, {"iat", 1'000'061}}, kNow).error().message ==
        "token issued in the future (iat)");
  CHECK(check_token_times(json::object(), kNow).error().message == "token has no expiry (exp)");
  CHECK(check_token_times({{"exp", "soon"}}, kNow).error().message == "token time claims must be numbers");
}

TEST_CASE("token_id is the jti, else the SHA-256 of the token", "[jwk]") {
  CHECK(token_id({{"jti", "abc"}}, "t.o.k") == "abc");
  CHECK(token_id(json::object(), "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(token_id({{"jti", ""}}, "x") != "");
}
