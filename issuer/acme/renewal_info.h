#pragma once
// ACME Renewal Information (RFC 9773). A certificate is named by its
// CertID, base64url(authorityKeyIdentifier keyIdentifier) "."
// base64url(serial number, the DER INTEGER's content octets). The
// suggested window is the last third of the lifetime's middle: it starts
// at two thirds of the lifetime and ends at five sixths, so renewals
// spread out and there is a sixth left to retry; a revoked certificate's
// window is in the past, so clients renew at once. Pure functions.

#include <optional>
#include <string>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"

namespace keystep::acme {

struct CertId {
  std::string key_identifier;  // raw bytes
  std::string serial_decimal;
};

// cert_id is the RFC 9773 CertID of a certificate; "" when it has no AKI.
[[nodiscard]] std::string cert_id(const crypto::Certificate& certificate);
[[nodiscard]] std::optional<CertId> parse_cert_id(std::string_view text);
// key_identifier is the certificate's authorityKeyIdentifier keyIdentifier (raw), or "".
[[nodiscard]] std::string authority_key_identifier(const crypto::Certificate& certificate);

struct RenewalWindow {
  common::TimePoint start;
  common::TimePoint end;
};
[[nodiscard]] RenewalWindow suggested_window(common::TimePoint not_before, common::TimePoint not_after, bool revoked,
                                             common::TimePoint now);

}  // namespace keystep::acme
