#pragma once
// build_crl signs a v2 certificate revocation list (RFC 5280 §5) with the
// intermediate's key, in the shape step-ca's GenerateCertificateRevocationList
// produces: issuer = the intermediate's subject, thisUpdate truncated to the
// second (UTC), nextUpdate = thisUpdate + validity, a CRL number, an
// authority key identifier equal to the intermediate's subject key
// identifier, one entry per revocation (with a reasonCode extension unless
// the reason is 0, unspecified), and, when idp_url is not empty, a critical
// issuing distribution point whose only field is a fullName URI.
//
// It keeps every record it is given, in the given order: pruning expired
// revocations is the caller's choice (Store::list_revocations). Pure
// function of its arguments; safe to call from any thread.
//
// Fails with invalid_argument for a serial that is not a decimal
// non-negative integer, a duplicate serial, a reason code outside 0..10 or 7
// (unused in RFC 5280), a negative CRL number, a non-positive validity or an
// IDP URL that is not a plain ASCII absolute URI; with failed_precondition
// when the intermediate lacks a subject key identifier or the cRLSign key
// usage; with internal when OpenSSL fails.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/signing/certificate_authority.h"
#include "issuer/storage/store.h"

namespace keystep::revocation {

inline constexpr std::size_t kMaxIdpUrlBytes = 2048;
// kMaxCrlBytes bounds what parse_crl reads.
inline constexpr std::size_t kMaxCrlBytes = 64 * 1024 * 1024;

[[nodiscard]] Result<std::string> build_crl(const signing::CertificateAuthority& ca,
                                            const std::vector<storage::RevocationRecord>& revoked,
                                            std::int64_t crl_number, common::TimePoint this_update,
                                            std::chrono::seconds validity, const std::string& idp_url);

// crl_to_pem wraps DER in one "X509 CRL" PEM block (64-column base64,
// trailing newline), as `GET /crl?pem` serves it.
[[nodiscard]] std::string crl_to_pem(std::string_view der);

// CrlEntry and CrlInfo are a decoded CRL, for tests and diagnostics.
struct CrlEntry {
  std::string serial;  // decimal
  common::TimePoint revoked_at;
  std::optional<int> reason_code;  // absent when the entry has no reasonCode
};

struct CrlInfo {
  long version = 0;  // 1 means v2
  std::string issuer;  // RFC 2253 one-line form
  std::optional<std::int64_t> number;
  common::TimePoint this_update;
  std::optional<common::TimePoint> next_update;
  std::string authority_key_id_hex;  // "" when absent
  std::optional<std::string> idp_url;  // the fullName URI of the issuing distribution point
  bool is_idp_critical = false;
  std::vector<CrlEntry> entries;
};

// parse_crl decodes a DER CRL without checking its signature (use
// X509_CRL_verify for that); invalid_argument when it is not one.
[[nodiscard]] Result<CrlInfo> parse_crl(std::string_view der);

}  // namespace keystep::revocation
