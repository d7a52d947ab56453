#pragma once
// RFC 5280 §5.3.1 CRLReason codes, shared by the CRL and OCSP encoders.

namespace keystep::revocation {

inline constexpr int kReasonUnspecified = 0;
inline constexpr int kReasonKeyCompromise = 1;
inline constexpr int kReasonAaCompromise = 10;

// is_valid_reason_code accepts 0..10 except 7, which RFC 5280 leaves unused.
[[nodiscard]] constexpr bool is_valid_reason_code(int code) {
  return code >= kReasonUnspecified && code <= kReasonAaCompromise && code != 7;
}

}  // namespace keystep::revocation
