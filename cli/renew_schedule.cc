#include "cli/renew_schedule.h"

#include <algorithm>

namespace keystep::cli {
namespace {

double clamp_jitter(double jitter) { return std::clamp(jitter, 0.0, 1.0); }

}  // namespace

common::TimePoint next_renewal(common::TimePoint not_before, common::TimePoint not_after, common::TimePoint now,
                               const RenewalPolicy& policy, double jitter) {
  const auto lifetime = not_after - not_before;
  if (lifetime <= common::TimePoint::duration::zero()) return now;
  auto due = not_before + lifetime * 2 / 3;
  if (policy.expires_in && *policy.expires_in < lifetime) due = not_after - *policy.expires_in;
  due -= std::chrono::duration_cast<common::TimePoint::duration>(lifetime / 20 * clamp_jitter(jitter));
  if (policy.renew_period) due = std::min(due, now + *policy.renew_period);
  return std::max(due, now);
}

std::chrono::milliseconds retry_delay(int failures, double jitter) {
  std::chrono::milliseconds delay = kFirstRetryDelay;
  for (int i = 1; i < failures && delay < kMaxRetryDelay; ++i) delay *= 2;
  delay = std::min<std::chrono::milliseconds>(delay, kMaxRetryDelay);
  return delay + std::chrono::duration_cast<std::chrono::milliseconds>(delay / 4 * clamp_jitter(jitter));
}

}  // namespace keystep::cli
