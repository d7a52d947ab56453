#include "issuer/policy/time_format.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::policy;
using namespace std::chrono_literals;
using common::TimePoint;

namespace {

TimePoint utc(int y, unsigned m, unsigned d, std::chrono::seconds time_of_day = 0s) {
  return TimePoint(std::chrono::sys_days(std::chrono::year(y) / m / d).time_since_epoch() +
                   time_of_day);
}

}  // namespace

TEST_CASE("format_rfc3339 prints UTC to whole seconds", "[policy]") {
  CHECK(format_rfc3339(TimePoint()) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(utc(2026, 11, 22, 10h)) == "2026-11-22T10:00:00Z");
  CHECK(format_rfc3339(utc(2024, 2, 29, 23h + 59min + 59s) + 999ms) == "2024-02-29T23:59:59Z");
  CHECK(format_rfc3339(TimePoint() - 1ns) == "1969-12-31T23:59:59Z");
}

TEST_CASE("parse_rfc3339 reads UTC, offsets and fractions", "[policy]") {
  CHECK(*parse_rfc3339("2026-11-22T10:00:00Z") == utc(2026, 11, 22, 10h));
  CHECK(*parse_rfc3339("2026-11-22T10:00:00+02:00") == utc(2026, 11, 22, 8h));
  CHECK(*parse_rfc3339("2026-11-22T10:00:00-05:30") == utc(2026, 11, 22, 15h + 30min));
  CHECK(*parse_rfc3339("2026-11-22T00:30:00+01:00") == utc(2026, 11, 21, 23h + 30min));
  CHECK(*parse_rfc3339("2026-11-22T10:00:00.5Z") == utc(2026, 11, 22, 10h) + 500ms);
  CHECK(*parse_rfc3339("2026-11-22T10:00:00.123456789123Z") == utc(2026, 11, 22, 10h) + 123456789ns);
  CHECK(*parse_rfc3339("2024-02-29T23:59:59Z") == utc(2024, 2, 29, 23h + 59min + 59s));
  CHECK(*parse_rfc3339("1970-01-01T00:00:00+00:00") == TimePoint());
}

TEST_CASE("parse_rfc3339 round-trips format_rfc3339", "[policy]") {
  for (const char* text : {"2026-11-22T10:00:00Z", "2000-01-01T00:00:00Z", "1969-07-20T20:17:40Z",
                           "2099-12-31T23:59:59Z"}) {
    CAPTURE(text);
    auto t = parse_rfc3339(text);
    REQUIRE(t);
    CHECK(format_rfc3339(*t) == text);
  }
  CHECK(format_rfc3339(*parse_rfc3339("2026-11-22T12:00:00+02:00")) == "2026-11-22T10:00:00Z");
}

TEST_CASE("parse_rfc3339 rejects garbage and impossible times", "[policy]") {
  for (const char* text :
       {"", "garbage", "2026-11-22", "2026-11-22T10:00:00", "2026-11-22 10:00:00Z",
        "2026-11-22t10:00:00Z", "2026-11-22T10:00:00z", "2026-11-22T10:00Z", "2026-11-22T10:00:00ZZ",
        "2026-11-22T10:00:00+0200", "2026-11-22T10:00:00+02", "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00+02:60", "2026-11-22T10:00:00.Z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2026-11-22T10:00:60Z",
        "+2026-11-22T10:00:00Z", "2026-1-22T10:00:00Z", "2026-11-22T10:00:00Z\n", "5m"}) {
    CAPTURE(text);
    auto t = parse_rfc3339(text);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == Errc::invalid_argument);
    CHECK(t.error().message.starts_with("invalid RFC 3339 time \""));
  }
}

TEST_CASE("parse_rfc3339 rejects times a TimePoint cannot hold", "[policy]") {
  auto far = parse_rfc3339("9999-12-31T23:59:59Z");
  REQUIRE_FALSE(far);
  CHECK(far.error().message == R"(RFC 3339 time "9999-12-31T23:59:59Z" is out of range)");
  CHECK_FALSE(parse_rfc3339("1600-01-01T00:00:00Z"));
  CHECK(parse_rfc3339("2200-01-01T00:00:00Z"));
}
