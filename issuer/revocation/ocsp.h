#pragma once
// The OCSP responder core (RFC 6960), without HTTP: decode a request, answer
// it, encode error responses. The intermediate answers for the certificates
// it issued and signs the responses itself (RFC 6960 §4.2.2.2, "the CA that
// issued the certificate"): responder ID by key hash, no certificates in the
// response. Requests are not required to be signed; a request signature is
// ignored. Every function is safe to call from any thread.
//
// The HTTP layer answers every OCSP request with 200 and an OCSPResponse:
//   parse_ocsp_request fails  -> error_response(malformed_request)
//   respond fails unavailable -> error_response(try_later)
//   respond fails otherwise   -> error_response(internal_error)
// answer_ocsp_request does exactly that in one call.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/signing/certificate_authority.h"

namespace keystep::revocation {

inline constexpr std::size_t kMaxOcspRequestBytes = 64 * 1024;
// kMaxOcspCertIds bounds the CertIDs of one request (clients send one).
inline constexpr std::size_t kMaxOcspCertIds = 32;

// OcspResponseStatus is the RFC 6960 OCSPResponseStatus of an error
// response (successful is not one: respond() makes those).
enum class OcspResponseStatus {
  malformed_request = 1,
  internal_error = 2,
  try_later = 3,
  sig_required = 5,
  unauthorized = 6,
};

// OcspCertId describes one CertID of a request.
struct OcspCertId {
  std::string hash_algorithm;  // short name of the CertID's hash: "SHA1", "SHA256", ...
  std::string serial;          // decimal
};

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, crypto::FreeWith<OCSP_REQUEST_free>>;

// OcspRequestInfo is a decoded request. Move-only: it owns the request.
struct OcspRequestInfo {
  std::vector<OcspCertId> cert_ids;  // in request order
  bool has_nonce = false;
  OcspRequestPtr request;
};

// parse_ocsp_request decodes a DER OCSPRequest of at most
// kMaxOcspRequestBytes holding 1..kMaxOcspCertIds CertIDs and nothing after
// it; invalid_argument otherwise.
[[nodiscard]] Result<OcspRequestInfo> parse_ocsp_request(std::string_view der);

// decode_ocsp_get_path turns the path segment after the responder URL of a
// GET request (RFC 6960 appendix A.1: url-encoding of base64 of the DER)
// into DER. Percent escapes (%2B, %2F, %3D, any case) are decoded, a literal
// '+' stays '+' (it is not a space in a path), a literal '/' is kept, and
// missing '=' padding is tolerated. invalid_argument when it is not that.
[[nodiscard]] Result<std::string> decode_ocsp_get_path(std::string_view url_path_suffix);

// CertStatus is what the CA knows about one serial.
struct CertStatus {
  enum class State { good, revoked, unknown };
  State state = State::unknown;
  common::TimePoint revoked_at{};  // revoked only
  int reason_code = 0;             // revoked only; RFC 5280 CRLReason, 0 = unspecified (omitted)

  [[nodiscard]] static CertStatus good() { return {State::good}; }
  [[nodiscard]] static CertStatus unknown() { return {State::unknown}; }
  [[nodiscard]] static CertStatus revoked(common::TimePoint at, int reason) { return {State::revoked, at, reason}; }
};

// OcspStatusLookup answers for one decimal serial of the intermediate. It
// is called once per matching CertID; an error aborts the response.
using OcspStatusLookup = std::function<Result<CertStatus>(const std::string& serial_decimal)>;

// respond answers every CertID of the request: one naming the
// intermediate (issuer name and key hash under the CertID's own hash
// algorithm: SHA-1, SHA-256, SHA-384 or SHA-512) gets the lookup's status;
// any other, including one hashed with another algorithm, gets unknown.
// thisUpdate and producedAt are `now`, nextUpdate is now + validity; a
// request nonce is echoed. Returns a DER OCSPResponse with status successful. Fails with
// invalid_argument for a non-positive validity, the lookup's error, internal
// for an invalid reason code from the lookup or an OpenSSL failure.
[[nodiscard]] Result<std::string> respond(const OcspRequestInfo& request, const signing::CertificateAuthority& ca,
                                          const OcspStatusLookup& lookup, common::TimePoint now,
                                          std::chrono::seconds validity);

// error_response encodes an unsigned OCSPResponse carrying only `status`.
[[nodiscard]] Result<std::string> error_response(OcspResponseStatus status);

// answer_ocsp_request parses, responds, and maps failures to error
// responses as listed at the top of this file. It fails only when even the
// error response cannot be encoded.
[[nodiscard]] Result<std::string> answer_ocsp_request(std::string_view der, const signing::CertificateAuthority& ca,
                                                      const OcspStatusLookup& lookup, common::TimePoint now,
                                                      std::chrono::seconds validity);

}  // namespace keystep::revocation
