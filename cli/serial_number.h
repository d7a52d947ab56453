#pragma once
// normalize_serial turns a certificate serial number as a user types it -
// decimal ("308893286343609293989051180431574390766") or hex with a 0x
// prefix ("0xe862b2...") - into the decimal form /revoke and the CA's
// database use. Anything else (signs, spaces, colons, other prefixes, more
// than kMaxSerialInput characters) is invalid_argument.

#include <cstddef>
#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::cli {

// RFC 5280 serials have at most 20 octets: 49 decimal digits, 0x + 40 hex.
inline constexpr std::size_t kMaxSerialInput = 64;

[[nodiscard]] Result<std::string> normalize_serial(std::string_view serial);

}  // namespace keystep::cli
