#include "issuer/policy/claims.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "issuer/policy/quote.h"
#include "issuer/policy/time_format.h"

namespace keystep::policy {
namespace {

using std::chrono::floor;
using std::chrono::seconds;

constexpr std::size_t kMaxTimeOrDurationLength = 64;

// Validity arithmetic runs on whole seconds since the epoch in 64 bits: a
// +-290 year duration added to now cannot overflow, unlike TimePoint (ns).
constexpr std::int64_t kMinSecs =
    floor<seconds>(common::TimePoint::min()).time_since_epoch().count() + 1;
constexpr std::int64_t kMaxSecs =
    floor<seconds>(common::TimePoint::max()).time_since_epoch().count() - 1;

std::int64_t to_secs(common::TimePoint t) {
  return floor<seconds>(t).time_since_epoch().count();
}

common::TimePoint from_secs(std::int64_t s) {
  return common::TimePoint(std::chrono::duration_cast<common::TimePoint::duration>(seconds(s)));
}

std::int64_t resolve(const TimeOrDuration& t, std::int64_t base_secs) {
  if (const auto* at = std::get_if<common::TimePoint>(&t.value)) return to_secs(*at);
  return base_secs + floor<seconds>(std::get<common::Duration>(t.value)).count();
}

// format_span prints s >= 0 seconds like common::format_duration, also past
// the 292 years a nanosecond Duration holds.
std::string format_span(std::int64_t s) {
  constexpr std::int64_t kMaxNanosSecs = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
  if (s < kMaxNanosSecs) return common::format_duration(seconds(s));
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m" +
         std::to_string(s % 60) + "s";
}

Status positive(std::string_view path, std::string_view field, common::Duration d) {
  if (d > common::Duration::zero()) return ok();
  return fail(Errc::invalid_argument, std::string(path) + "." + std::string(field) +
                                          ": must be more than 0s, got " +
                                          common::format_duration(d));
}

tl::unexpected<Error> out_of_order(std::string_view path, std::string_view field,
                                   common::Duration d, std::string_view relation,
                                   std::string_view other_field, common::Duration other) {
  return fail(Errc::invalid_argument, std::string(path) + "." + std::string(field) + ": " +
                                          common::format_duration(d) + " is " +
                                          std::string(relation) + " than " +
                                          std::string(other_field) + " " +
                                          common::format_duration(other));
}

}  // namespace

Status validate_claims(const Claims& claims, std::string_view path) {
  if (auto s = positive(path, "minDuration", claims.min_duration); !s) return s;
  if (auto s = positive(path, "maxDuration", claims.max_duration); !s) return s;
  if (auto s = positive(path, "defaultDuration", claims.default_duration); !s) return s;
  if (claims.min_duration > claims.max_duration) {
    return out_of_order(path, "minDuration", claims.min_duration, "more", "maxDuration",
                        claims.max_duration);
  }
  if (claims.default_duration < claims.min_duration) {
    return out_of_order(path, "defaultDuration", claims.default_duration, "less", "minDuration",
                        claims.min_duration);
  }
  if (claims.default_duration > claims.max_duration) {
    return out_of_order(path, "defaultDuration", claims.default_duration, "more", "maxDuration",
                        claims.max_duration);
  }
  return ok();
}

Result<std::optional<TimeOrDuration>> parse_time_or_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto bad = [&] {
    return fail(Errc::invalid_argument, "invalid time or duration " + quote(text));
  };
  if (text.size() > kMaxTimeOrDurationLength) return bad();
  if (auto at = parse_rfc3339(text)) return TimeOrDuration{*at};
  if (auto d = common::parse_duration(text)) return TimeOrDuration{*d};
  return bad();
}

Result<Validity> compute_validity(const Claims& claims, common::TimePoint now,
                                  std::chrono::seconds backdate,
                                  const std::optional<TimeOrDuration>& not_before,
                                  const std::optional<TimeOrDuration>& not_after,
                                  common::TimePoint issuer_not_after) {
  if (backdate < seconds::zero()) {
    return fail(Errc::invalid_argument, "backdate must not be negative");
  }
  const std::int64_t now_secs = to_secs(now);
  const std::int64_t nb = not_before ? resolve(*not_before, now_secs) : now_secs;
  if (nb < kMinSecs || nb > kMaxSecs) {
    return fail(Errc::invalid_argument, "notBefore is out of range");
  }
  const std::int64_t na =
      not_after ? resolve(*not_after, nb)
                : nb + floor<seconds>(claims.default_duration).count();
  if (na < kMinSecs || na > kMaxSecs) {
    return fail(Errc::invalid_argument, "notAfter is out of range");
  }
  if (na < now_secs) return fail(Errc::invalid_argument, "notAfter cannot be in the past");
  if (na < nb) return fail(Errc::invalid_argument, "notAfter cannot be before notBefore");

  // Compared in seconds: d in nanoseconds could overflow. For whole seconds,
  // d < min iff d < ceil(min) and d > max iff d > floor(max).
  const std::int64_t d = na - nb;
  if (d < std::chrono::ceil<seconds>(claims.min_duration).count()) {
    return fail(Errc::permission_denied,
                "requested duration of " + format_span(d) +
                    " is less than the authorized minimum certificate duration of " +
                    common::format_duration(claims.min_duration));
  }
  if (d > floor<seconds>(claims.max_duration).count()) {
    return fail(Errc::permission_denied,
                "requested duration of " + format_span(d) +
                    " is more than the authorized maximum certificate duration of " +
                    common::format_duration(claims.max_duration));
  }

  if (!not_before && backdate.count() > nb - kMinSecs) {
    return fail(Errc::invalid_argument, "notBefore is out of range");
  }
  const std::int64_t issued_nb = not_before ? nb : nb - backdate.count();
  const std::int64_t issuer_na = to_secs(issuer_not_after);
  if (issuer_na <= now_secs) {
    return fail(Errc::failed_precondition,
                "the intermediate CA expired at " + format_rfc3339(issuer_not_after));
  }
  const std::int64_t issued_na = std::min(na, issuer_na);
  if (issued_na <= issued_nb) {
    return fail(Errc::failed_precondition,
                "the intermediate CA expires at " + format_rfc3339(from_secs(issuer_na)) +
                    "; it cannot issue certificates that start at " +
                    format_rfc3339(from_secs(issued_nb)));
  }
  return Validity{from_secs(issued_nb), from_secs(issued_na)};
}

nlohmann::json claims_json(const Claims& c) {
  return {{"minTLSCertDuration", common::format_duration(c.min_duration)},
          {"maxTLSCertDuration", common::format_duration(c.max_duration)},
          {"defaultTLSCertDuration", common::format_duration(c.default_duration)},
          {"disableRenewal", c.disable_renewal},
          {"allowRenewalAfterExpiry", c.allow_renewal_after_expiry}};
}

}  // namespace keystep::policy
