#pragma once
// Serial numbers cross the revocation API as decimal strings, the way
// step-ca stores and /revoke spells them; these helpers convert between that
// form and ASN.1 INTEGERs. Pure functions; safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::revocation {

// kMaxSerialDigits bounds a decimal serial: 20 octets (RFC 5280 §4.1.2.2)
// need at most 49 digits; a little slack for non-conforming issuers.
inline constexpr std::size_t kMaxSerialDigits = 64;

// decimal_to_asn1_integer parses a non-negative decimal integer (digits
// only, at most kMaxSerialDigits); invalid_argument otherwise.
[[nodiscard]] Result<crypto::Asn1IntegerPtr> decimal_to_asn1_integer(std::string_view decimal);

// asn1_integer_to_decimal renders an INTEGER in decimal ("-5" for negative
// values); "" if OpenSSL cannot.
[[nodiscard]] std::string asn1_integer_to_decimal(const ASN1_INTEGER* value);

// normalize_serial turns a serial as a user types it - decimal
// ("308893286343609293989051180431574390766") or hex after 0x
// ("0xe862b2...") - into the decimal form /revoke and the ledger use.
// Anything else (signs, spaces, colons, other prefixes, more than
// kMaxSerialInput characters) is invalid_argument.
inline constexpr std::size_t kMaxSerialInput = 64;  // 20 octets: 49 digits, or 0x + 40 hex
[[nodiscard]] Result<std::string> normalize_serial(std::string_view serial);

}  // namespace keystep::revocation
