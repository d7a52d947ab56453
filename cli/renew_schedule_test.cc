#include "cli/renew_schedule.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::cli;
using namespace std::chrono_literals;

namespace {

const common::TimePoint kStart{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z

}  // namespace

TEST_CASE("next_renewal is two thirds into the lifetime by default", "[cli][renew]") {
  const auto due = next_renewal(kStart, kStart + 24h, kStart + 1h, {});
  CHECK(due == kStart + 16h);
}

TEST_CASE("next_renewal schedules certificates of seconds to the second", "[cli][renew]") {
  CHECK(next_renewal(kStart, kStart + 30s, kStart, {}) == kStart + 20s);
  CHECK(next_renewal(kStart, kStart + 3s, kStart, {}) == kStart + 2s);
  CHECK(next_renewal(kStart, kStart + 5min, kStart + 10s, {}) == kStart + 200s);
  // A lifetime that does not divide by three is not rounded to whole seconds.
  CHECK(next_renewal(kStart, kStart + 10s, kStart, {}) == kStart + std::chrono::nanoseconds(6'666'666'666));
}

TEST_CASE("a short certificate backdated by the CA is not due on arrival", "[cli][renew]") {
  // 30s asked for, not_before backdated by a minute: received at kStart.
  const auto not_before = kStart - 60s;
  const auto not_after = kStart + 30s;
  CHECK(next_renewal(not_before, not_after, kStart, {}) == kStart);
  CHECK(next_renewal(renewal_start(not_before, kStart), not_after, kStart, {}) == kStart + 20s);
  CHECK(renewal_start(kStart, kStart - 5s) == kStart);
}

TEST_CASE("next_renewal with --expires-in waits until only that much is left", "[cli][renew]") {
  CHECK(next_renewal(kStart, kStart + 24h, kStart, {.expires_in = 1h}) == kStart + 23h);
  CHECK(next_renewal(kStart, kStart + 60s, kStart, {.expires_in = 45s}) == kStart + 15s);
}

TEST_CASE("next_renewal ignores an --expires-in as long as the lifetime", "[cli][renew]") {
  // Otherwise every renewed certificate would be due at once, in a loop.
  CHECK(next_renewal(kStart, kStart + 30s, kStart, {.expires_in = 30s}) == kStart + 20s);
  CHECK(next_renewal(kStart, kStart + 1h, kStart, {.expires_in = 2h}) == kStart + 40min);
}

TEST_CASE("next_renewal with --renew-period renews at least that often", "[cli][renew]") {
  const auto now = kStart + 1h;
  CHECK(next_renewal(kStart, kStart + 24h, now, {.renew_period = 1h}) == now + 1h);
  // The due time of the certificate still wins when it comes first.
  CHECK(next_renewal(kStart, kStart + 24h, now, {.renew_period = 20h}) == kStart + 16h);
  CHECK(next_renewal(kStart, kStart + 24h, now, {.expires_in = 2h, .renew_period = 30h}) == kStart + 22h);
}

TEST_CASE("next_renewal is now for an overdue or expired certificate", "[cli][renew]") {
  CHECK(next_renewal(kStart, kStart + 24h, kStart + 20h, {}) == kStart + 20h);
  CHECK(next_renewal(kStart, kStart + 24h, kStart + 48h, {}) == kStart + 48h);
  CHECK(next_renewal(kStart, kStart + 30s, kStart + 31s, {.renew_period = 1h}) == kStart + 31s);
  // A certificate without a positive lifetime is due at once.
  CHECK(next_renewal(kStart, kStart, kStart, {}) == kStart);
}

TEST_CASE("next_renewal's jitter moves the renewal earlier by at most a twentieth", "[cli][renew]") {
  // Two thirds of 20h is 13h20m = 800min.
  CHECK(next_renewal(kStart, kStart + 20h, kStart, {}, 0.5) == kStart + 800min - 30min);
  CHECK(next_renewal(kStart, kStart + 20h, kStart, {}, 1.0) == kStart + 800min - 1h);
  CHECK(next_renewal(kStart, kStart + 20h, kStart, {.expires_in = 2h}, 1.0) == kStart + 17h);
  CHECK(next_renewal(kStart, kStart + 20h, kStart, {}, 7.0) == next_renewal(kStart, kStart + 20h, kStart, {}, 1.0));
  // Never before now.
  CHECK(next_renewal(kStart, kStart + 30s, kStart + 20s, {}, 1.0) == kStart + 20s);
}

TEST_CASE("retry_delay backs off from 5s to 5min", "[cli][renew]") {
  CHECK(retry_delay(1) == 5s);
  CHECK(retry_delay(2) == 10s);
  CHECK(retry_delay(3) == 20s);
  CHECK(retry_delay(7) == 300s);
  CHECK(retry_delay(8) == 300s);
  CHECK(retry_delay(1000) == 300s);
}

TEST_CASE("retry_delay's jitter adds at most a quarter", "[cli][renew]") {
  CHECK(retry_delay(1, 1.0) == 6250ms);
  CHECK(retry_delay(1000, 0.5) == 337500ms);
  CHECK(retry_delay(2, -1.0) == 10s);
}
