#pragma once
// Go-style durations ("5m", "24h0m0s", "1h30m", "-1m", "1.5h", "300ms"), the
// format of step-ca's claims and of TimeDuration values on the wire.

#include <chrono>
#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::common {

using Duration = std::chrono::nanoseconds;

// parse_duration accepts Go's time.ParseDuration syntax, plus "d" for days
// (24h) which operators expect in config files. Bounded to +-290 years.
[[nodiscard]] Result<Duration> parse_duration(std::string_view text);

// format_duration prints Go's Duration.String(): "24h0m0s", "5m0s", "1.5s".
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace keystep::common
