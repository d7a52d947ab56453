#pragma once
// Claims bound a certificate's lifetime; compute_validity() turns a request's
// notBefore/notAfter into the validity an issued leaf gets (ref section 5.2,
// step-ca's profileDefaultDuration and validityValidator).

#include <chrono>
#include <optional>
#include <string_view>
#include <variant>

#include "issuer/common/clock.h"
#include "issuer/common/duration.h"
#include "issuer/common/error.h"

#include <nlohmann/json.hpp>

namespace keystep::policy {

struct Claims {
  std::chrono::nanoseconds min_duration = std::chrono::minutes(5);    // minTLSCertDuration
  std::chrono::nanoseconds max_duration = std::chrono::hours(24);     // maxTLSCertDuration
  std::chrono::nanoseconds default_duration = std::chrono::hours(24); // defaultTLSCertDuration
  bool disable_renewal = false;                                       // disableRenewal
  bool allow_renewal_after_expiry = false;                            // allowRenewalAfterExpiry
};

// validate_claims checks every duration is > 0 and min <= default <= max;
// errors are invalid_argument prefixed with path:
// "claims.defaultDuration: 48h0m0s is more than maxDuration 24h0m0s".
[[nodiscard]] Status validate_claims(const Claims& claims, std::string_view path);

// claims_json is a provisioner's claims as /provisioners lists them, in
// step's field names: minTLSCertDuration, maxTLSCertDuration,
// defaultTLSCertDuration (Go durations), disableRenewal,
// allowRenewalAfterExpiry.
[[nodiscard]] nlohmann::json claims_json(const Claims& claims);

// TimeOrDuration is the wire's TimeDuration: an absolute time, or a duration
// relative to a base (now for notBefore, the notBefore for notAfter).
struct TimeOrDuration {
  std::variant<common::TimePoint, common::Duration> value;

  [[nodiscard]] bool is_absolute() const {
    return std::holds_alternative<common::TimePoint>(value);
  }
};

// parse_time_or_duration: "" -> nullopt; an RFC 3339 time (parse_rfc3339);
// else a Go duration ("2160h", "-1m"); else invalid_argument
// `invalid time or duration "x"`.
[[nodiscard]] Result<std::optional<TimeOrDuration>> parse_time_or_duration(std::string_view text);

struct Validity {
  common::TimePoint not_before;
  common::TimePoint not_after;
};

// compute_validity, on times truncated to whole seconds:
//   nb = not_before (absolute, or now + duration), else now;
//   na = not_after (absolute, or nb + duration), else nb + default_duration.
// Only a defaulted nb is backdated: the issued not_before is now - backdate.
// The requested duration d = na - nb (nb not backdated) must lie in
// [min_duration, max_duration]; so a default leaf lasts 24h plus the backdate.
// Errors, in order of checks:
//   invalid_argument     "notAfter cannot be in the past" (na < now),
//                        "notAfter cannot be before notBefore", a time
//                        outside what TimePoint holds, backdate < 0;
//   permission_denied    "requested duration of X is less than the authorized
//                        minimum certificate duration of Y" / "... more than
//                        the authorized maximum ...";
//   failed_precondition  the issuer has expired (issuer_not_after <= now), or
//                        the result, not_after clamped to issuer_not_after so
//                        a leaf never outlives its issuer, would be empty:
//                        "the intermediate CA expires at <t>; it cannot issue
//                        certificates that start at <t>".
// Clamping may leave a leaf shorter than min_duration: the minimum limits
// what a client may ask for, not what an expiring CA can still give.
[[nodiscard]] Result<Validity> compute_validity(const Claims& claims, common::TimePoint now,
                                                std::chrono::seconds backdate,
                                                const std::optional<TimeOrDuration>& not_before,
                                                const std::optional<TimeOrDuration>& not_after,
                                                common::TimePoint issuer_not_after);

}  // namespace keystep::policy
