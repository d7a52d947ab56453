#pragma once
// RFC 3339 timestamps as step-ca writes and reads them (Go's time.RFC3339).

#include <string>
#include <string_view>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"

namespace keystep::policy {

// format_rfc3339 prints t in UTC to whole seconds (rounding down):
// "2026-11-22T10:00:00Z".
[[nodiscard]] std::string format_rfc3339(common::TimePoint t);

// parse_rfc3339 reads "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" with
// an upper-case 'T' and 'Z' as Go does; fractions beyond nanoseconds are cut.
// Fails with invalid_argument on any other text, an impossible date or time
// (no leap second 60), or a time TimePoint cannot hold (1678..2261).
[[nodiscard]] Result<common::TimePoint> parse_rfc3339(std::string_view text);

}  // namespace keystep::policy
