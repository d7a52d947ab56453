#include "issuer/policy/claims.h"

#include <catch2/catch.hpp>

#include "issuer/policy/time_format.h"

using namespace keystep;
using namespace keystep::policy;
using namespace std::chrono_literals;
using common::TimePoint;

namespace {

TimePoint at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

std::optional<TimeOrDuration> when(const char* text) { return *parse_time_or_duration(text); }

// now has a fraction to show that every result is truncated to seconds.
const TimePoint kNow = at("2026-11-22T10:00:00.750Z");
const TimePoint kIssuerNotAfter = at("2027-11-22T10:00:00Z");

Result<Validity> validity(const char* not_before, const char* not_after,
                          TimePoint issuer_not_after = kIssuerNotAfter, Claims claims = {}) {
  return compute_validity(claims, kNow, 1min, when(not_before), when(not_after), issuer_not_after);
}

std::string error_of(const Result<Validity>& v, Errc code) {
  REQUIRE_FALSE(v);
  CHECK(v.error().code == code);
  return v.error().message;
}

}  // namespace

TEST_CASE("validate_claims accepts step-ca's defaults", "[policy]") {
  const Claims claims;
  CHECK(claims.min_duration == 5min);
  CHECK(claims.max_duration == 24h);
  CHECK(claims.default_duration == 24h);
  CHECK_FALSE(claims.disable_renewal);
  CHECK_FALSE(claims.allow_renewal_after_expiry);
  CHECK(validate_claims(claims, "claims"));
  CHECK(validate_claims(Claims{1s, 1s, 1s}, "claims"));
}

TEST_CASE("validate_claims names the field out of order or not positive", "[policy]") {
  const auto message = [](Claims claims) {
    auto status = validate_claims(claims, "claims");
    REQUIRE_FALSE(status);
    CHECK(status.error().code == Errc::invalid_argument);
    return status.error().message;
  };
  CHECK(message(Claims{5min, 24h, 48h}) == "claims.defaultDuration: 48h0m0s is more than maxDuration 24h0m0s");
  CHECK(message(Claims{5min, 24h, 1min}) == "claims.defaultDuration: 1m0s is less than minDuration 5m0s");
  CHECK(message(Claims{48h, 24h, 24h}) == "claims.minDuration: 48h0m0s is more than maxDuration 24h0m0s");
  CHECK(message(Claims{0s, 24h, 24h}) == "claims.minDuration: must be more than 0s, got 0s");
  CHECK(message(Claims{5min, -1h, 24h}) == "claims.maxDuration: must be more than 0s, got -1h0m0s");
  CHECK(message(Claims{5min, 24h, 0s}) == "claims.defaultDuration: must be more than 0s, got 0s");
  auto nested = validate_claims(Claims{5min, 24h, 48h}, "provisioners[2].claims");
  REQUIRE_FALSE(nested);
  CHECK(nested.error().message.starts_with("provisioners[2].claims.defaultDuration: "));
}

TEST_CASE("parse_time_or_duration reads empty, RFC 3339 and Go durations", "[policy]") {
  auto none = parse_time_or_duration("");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  auto absolute = parse_time_or_duration("2026-11-22T10:00:00+02:00");
  REQUIRE(absolute);
  REQUIRE(absolute->has_value());
  CHECK((*absolute)->is_absolute());
  CHECK(std::get<TimePoint>((*absolute)->value) == at("2026-11-22T08:00:00Z"));

  auto relative = parse_time_or_duration("2160h");
  REQUIRE(relative);
  CHECK_FALSE((*relative)->is_absolute());
  CHECK(std::get<common::Duration>((*relative)->value) == 2160h);
  CHECK(std::get<common::Duration>((*parse_time_or_duration("-1m"))->value) == -1min);
}

TEST_CASE("parse_time_or_duration rejects what is neither", "[policy]") {
  for (const char* text : {"garbage", "10", "2026-11-22", "2026-11-22T10:00:00", " 5m", "5m "}) {
    CAPTURE(text);
    auto parsed = parse_time_or_duration(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::invalid_argument);
    CHECK(parsed.error().message == "invalid time or duration \"" + std::string(text) + "\"");
  }
  CHECK_FALSE(parse_time_or_duration(std::string(100, '1') + "h"));
}

TEST_CASE("compute_validity defaults to 24h from now, backdated 1m", "[policy]") {
  auto v = validity("", "");
  REQUIRE(v);
  CHECK(format_rfc3339(v->not_before) == "2026-11-22T09:59:00Z");
  CHECK(format_rfc3339(v->not_after) == "2026-11-23T10:00:00Z");
  CHECK(v->not_after - v->not_before == 24h + 1min);
  CHECK(v->not_before == std::chrono::floor<std::chrono::seconds>(v->not_before));
  CHECK(v->not_after == std::chrono::floor<std::chrono::seconds>(v->not_after));
}

TEST_CASE("compute_validity reads relative requests from now and from notBefore", "[policy]") {
  auto after_only = validity("", "1h");
  REQUIRE(after_only);
  CHECK(format_rfc3339(after_only->not_before) == "2026-11-22T09:59:00Z");
  CHECK(format_rfc3339(after_only->not_after) == "2026-11-22T11:00:00Z");

  auto both = validity("1h", "2h");  // a requested notBefore is not backdated
  REQUIRE(both);
  CHECK(format_rfc3339(both->not_before) == "2026-11-22T11:00:00Z");
  CHECK(format_rfc3339(both->not_after) == "2026-11-22T13:00:00Z");

  auto before_only = validity("-1m", "");
  REQUIRE(before_only);
  CHECK(format_rfc3339(before_only->not_before) == "2026-11-22T09:59:00Z");
  CHECK(format_rfc3339(before_only->not_after) == "2026-11-23T09:59:00Z");
}

TEST_CASE("compute_validity takes absolute requests as given", "[policy]") {
  auto v = validity("2026-11-22T12:00:00Z", "2026-11-23T11:00:00+01:00");
  REQUIRE(v);
  CHECK(format_rfc3339(v->not_before) == "2026-11-22T12:00:00Z");
  CHECK(format_rfc3339(v->not_after) == "2026-11-23T10:00:00Z");

  auto now_exactly = validity("2026-11-22T10:00:00Z", "");
  REQUIRE(now_exactly);
  CHECK(format_rfc3339(now_exactly->not_before) == "2026-11-22T10:00:00Z");
  CHECK(format_rfc3339(now_exactly->not_after) == "2026-11-23T10:00:00Z");
}

TEST_CASE("compute_validity accepts durations at the claimed bounds", "[policy]") {
  CHECK(validity("", "5m"));
  CHECK(validity("", "24h"));
  CHECK(validity("", "5m0.9s"));  // truncated to 5m
}

TEST_CASE("compute_validity rejects a notAfter in the past or before notBefore", "[policy]") {
  CHECK(error_of(validity("", "2026-11-22T09:59:59Z"), Errc::invalid_argument) ==
        "notAfter cannot be in the past");
  CHECK(error_of(validity("", "-1m"), Errc::invalid_argument) == "notAfter cannot be in the past");
  CHECK(error_of(validity("2h", "2026-11-22T11:00:00Z"), Errc::invalid_argument) ==
        "notAfter cannot be before notBefore");
}

TEST_CASE("compute_validity rejects durations outside the claims", "[policy]") {
  CHECK(error_of(validity("", "4m59s"), Errc::permission_denied) ==
        "requested duration of 4m59s is less than the authorized minimum certificate duration of 5m0s");
  CHECK(error_of(validity("", "24h0m1s"), Errc::permission_denied) ==
        "requested duration of 24h0m1s is more than the authorized maximum certificate duration of 24h0m0s");
  CHECK(error_of(validity("", "2160h", kIssuerNotAfter), Errc::permission_denied) ==
        "requested duration of 2160h0m0s is more than the authorized maximum certificate duration of 24h0m0s");
  Claims long_lived{5min, 2160h, 24h};
  CHECK(validity("", "2160h", at("2030-01-01T00:00:00Z"), long_lived));
  CHECK(error_of(validity("1700-01-01T00:00:00Z", "2200-01-01T00:00:00Z"), Errc::permission_denied) ==
        "requested duration of 4382904h0m0s is more than the authorized maximum certificate duration of 24h0m0s");
}

TEST_CASE("compute_validity clamps notAfter to the issuer's notAfter", "[policy]") {
  auto v = validity("", "", at("2026-11-22T16:00:00Z"));
  REQUIRE(v);
  CHECK(format_rfc3339(v->not_before) == "2026-11-22T09:59:00Z");
  CHECK(format_rfc3339(v->not_after) == "2026-11-22T16:00:00Z");

  auto short_left = validity("", "", at("2026-11-22T10:01:00.9Z"));  // shorter than min: still issued
  REQUIRE(short_left);
  CHECK(format_rfc3339(short_left->not_after) == "2026-11-22T10:01:00Z");
}

TEST_CASE("compute_validity fails when the issuer cannot cover the leaf", "[policy]") {
  CHECK(error_of(validity("2h", "", at("2026-11-22T11:00:00Z")), Errc::failed_precondition) ==
        "the intermediate CA expires at 2026-11-22T11:00:00Z; it cannot issue certificates that "
        "start at 2026-11-22T12:00:00Z");
  CHECK(error_of(validity("", "", at("2026-11-22T10:00:00Z")), Errc::failed_precondition) ==
        "the intermediate CA expired at 2026-11-22T10:00:00Z");
  CHECK(error_of(validity("", "", at("2026-01-01T00:00:00Z")), Errc::failed_precondition) ==
        "the intermediate CA expired at 2026-01-01T00:00:00Z");
}

TEST_CASE("compute_validity rejects times out of range and a negative backdate", "[policy]") {
  CHECK(error_of(validity("2500000h", ""), Errc::invalid_argument) == "notBefore is out of range");
  CHECK(error_of(validity("", "2500000h"), Errc::invalid_argument) == "notAfter is out of range");
  auto negative = compute_validity(Claims{}, kNow, -1s, std::nullopt, std::nullopt, kIssuerNotAfter);
  CHECK(error_of(negative, Errc::invalid_argument) == "backdate must not be negative");
}
