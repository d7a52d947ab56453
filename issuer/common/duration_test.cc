#include "issuer/common/duration.h"

#include <catch2/catch.hpp>

using namespace keystep::common;
using namespace std::chrono_literals;

TEST_CASE("parse_duration reads Go durations and days", "[common]") {
  CHECK(*parse_duration("5m") == 5min);
  CHECK(*parse_duration("24h0m0s") == 24h);
  CHECK(*parse_duration("1h30m") == 90min);
  CHECK(*parse_duration("-1m") == -1min);
  CHECK(*parse_duration("1.5h") == 90min);
  CHECK(*parse_duration("300ms") == 300ms);
  CHECK(*parse_duration("90d") == 2160h);
  CHECK(*parse_duration("0") == 0s);
}

TEST_CASE("parse_duration rejects input without a unit or number", "[common]") {
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration("h"));
  CHECK_FALSE(parse_duration("5x"));
  CHECK_FALSE(parse_duration("-"));
  CHECK_FALSE(parse_duration("99999999999h"));
}

TEST_CASE("format_duration prints Go's String form", "[common]") {
  CHECK(format_duration(24h) == "24h0m0s");
  CHECK(format_duration(5min) == "5m0s");
  CHECK(format_duration(2160h) == "2160h0m0s");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(-1min) == "-1m0s");
  CHECK(format_duration(0s) == "0s");
}
