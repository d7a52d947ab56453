#pragma once
// When `keystep ca renew --daemon` renews, and how long it waits after a
// failure. Pure functions of their arguments (randomness comes in as a
// number), so the daemon's clock decisions are tested without waiting.
//
// next_renewal: a certificate valid from not_before to not_after, obtained
// (or found by the daemon at start) at `now`, is due
//   - two thirds into its lifetime (not_before + 2/3 * lifetime), or, with
//     expires_in, once only expires_in is left (not_after - expires_in);
//     an expires_in of the whole lifetime or more is ignored, as the
//     renewed certificate would be due again as soon as it is issued;
//   - earlier by up to lifetime/20 (jitter in [0, 1) scales it), so many
//     clients of one CA spread out, as step does;
//   - with renew_period, at the latest renew_period after `now`.
// The result is never before `now`: an expired or overdue certificate is due
// at once. CAs backdate not_before (step-ca by a minute) against clock skew,
// which would make a certificate of seconds due on arrival: for one just
// received, pass max(not_before, now) as not_before (renewal_start).
// Times are exact (no rounding to hours or minutes), so certificates of a
// few seconds schedule correctly.
//
// retry_delay: the wait before retry number `failures` (1, 2, ...): 5 s
// doubling up to 5 min, plus up to a quarter more (jitter in [0, 1)).

#include <algorithm>
#include <chrono>
#include <optional>

#include "issuer/common/clock.h"

namespace keystep::cli {

inline constexpr std::chrono::seconds kFirstRetryDelay{5};
inline constexpr std::chrono::seconds kMaxRetryDelay = std::chrono::minutes(5);

struct RenewalPolicy {
  std::optional<std::chrono::seconds> expires_in;    // --expires-in
  std::optional<std::chrono::seconds> renew_period;  // --renew-period
};

[[nodiscard]] common::TimePoint next_renewal(common::TimePoint not_before, common::TimePoint not_after,
                                             common::TimePoint now, const RenewalPolicy& policy,
                                             double jitter = 0);

// renewal_start is where the lifetime of a certificate received at
// received_at starts for next_renewal.
[[nodiscard]] inline common::TimePoint renewal_start(common::TimePoint not_before, common::TimePoint received_at) {
  return std::max(not_before, received_at);
}

[[nodiscard]] std::chrono::milliseconds retry_delay(int failures, double jitter = 0);

}  // namespace keystep::cli
