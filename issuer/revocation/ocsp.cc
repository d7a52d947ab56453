#include "issuer/revocation/ocsp.h"

#include "issuer/common/base64.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/revocation/asn1_time.h"
#include "issuer/revocation/reason_code.h"
#include "issuer/revocation/serial.h"

namespace keystep::revocation {
namespace {

using crypto::openssl_error;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, crypto::FreeWith<OCSP_BASICRESP_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, crypto::FreeWith<OCSP_RESPONSE_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, crypto::FreeWith<OCSP_CERTID_free>>;

// A GET path holds the base64 of at most kMaxOcspRequestBytes, each
// character possibly percent-encoded.
constexpr std::size_t kMaxOcspGetPathBytes = 3 * 4 * ((kMaxOcspRequestBytes + 2) / 3);

// digest_for returns the hash a CertID names if we can compute it, else
// nullptr (such a CertID cannot be ours: it is answered unknown).
const EVP_MD* digest_for(OCSP_CERTID* id) {
  ASN1_OBJECT* algorithm = nullptr;  // borrowed from id
  if (OCSP_id_get0_info(nullptr, &algorithm, nullptr, nullptr, id) != 1) return nullptr;
  switch (OBJ_obj2nid(algorithm)) {
    case NID_sha1: return EVP_sha1();
    case NID_sha256: return EVP_sha256();
    case NID_sha384: return EVP_sha384();
    case NID_sha512: return EVP_sha512();
    default: return nullptr;
  }
}

// names_issuer says whether a CertID's issuerNameHash and issuerKeyHash
// are those of `issuer` under the CertID's own hash algorithm.
Result<bool> names_issuer(OCSP_CERTID* id, const X509* issuer) {
  const EVP_MD* md = digest_for(id);
  if (md == nullptr) return false;
  OcspCertIdPtr ours(OCSP_cert_to_id(md, nullptr, issuer));
  if (!ours) return openssl_error(Errc::internal, "hashing the intermediate for ocsp");
  return OCSP_id_issuer_cmp(id, ours.get()) == 0;
}

Status add_status(OCSP_BASICRESP* response, OCSP_CERTID* id, const CertStatus& status, ASN1_TIME* this_update,
                  ASN1_TIME* next_update) {
  int state = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  crypto::Asn1TimePtr revoked_at;
  switch (status.state) {
    case CertStatus::State::good:
      state = V_OCSP_CERTSTATUS_GOOD;
      break;
    case CertStatus::State::unknown:
      break;
    case CertStatus::State::revoked: {
      if (!is_valid_reason_code(status.reason_code)) {
        return fail(Errc::internal, "revocation reason code " + std::to_string(status.reason_code) +
                                        " is not one of RFC 5280's");
      }
      state = V_OCSP_CERTSTATUS_REVOKED;
      if (status.reason_code != kReasonUnspecified) reason = status.reason_code;  // omitted, as in the crl
      auto at = to_asn1_time(status.revoked_at);
      if (!at) return tl::unexpected(at.error());
      revoked_at = std::move(*at);
      break;
    }
  }
  // Returns a SINGLERESP borrowed from `response`; the CertID is copied.
  if (OCSP_basic_add1_status(response, id, state, reason, revoked_at.get(), this_update, next_update) == nullptr) {
    return openssl_error(Errc::internal, "adding an ocsp single response");
  }
  return ok();
}

Status sign(OCSP_BASICRESP* response, const signing::CertificateAuthority& ca, ASN1_TIME* produced_at) {
  // OCSP_basic_sign_ctx would stamp producedAt from the system clock; we
  // set it from the caller's `now` instead (OCSP_NOTIME) so that it equals
  // thisUpdate. The field belongs to `response`, which we own and may change.
  auto* produced = const_cast<ASN1_GENERALIZEDTIME*>(OCSP_resp_get0_produced_at(response));
  if (produced == nullptr || ASN1_TIME_to_generalizedtime(produced_at, &produced) == nullptr) {
    return openssl_error(Errc::internal, "setting ocsp producedAt");
  }
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  // signature_digest is nullptr for Ed25519, which signs the message itself.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, crypto::signature_digest(ca.key()), nullptr, ca.key()) != 1) {
    return openssl_error(Errc::internal, "starting the ocsp signature");
  }
  // The issuing CA signs directly (RFC 6960 §4.2.2.2): relying parties hold
  // its certificate already, so none is included; the responder is named
  // by the SHA-1 hash of its key.
  if (OCSP_basic_sign_ctx(response, ca.intermediate().get(), ctx.get(), nullptr,
                          OCSP_NOCERTS | OCSP_RESPID_KEY | OCSP_NOTIME) != 1) {
    return openssl_error(Errc::internal, "signing the ocsp response");
  }
  return ok();
}

Result<std::string> encode(OCSP_RESPONSE* response) {
  unsigned char* raw = nullptr;
  const int len = i2d_OCSP_RESPONSE(response, &raw);
  crypto::OpensslStringPtr owned(reinterpret_cast<char*>(raw));
  if (len <= 0) return openssl_error(Errc::internal, "encoding the ocsp response");
  return std::string(owned.get(), static_cast<std::size_t>(len));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<OcspRequestInfo> parse_ocsp_request(std::string_view der) {
  if (der.empty()) return fail(Errc::invalid_argument, "ocsp request is empty");
  if (der.size() > kMaxOcspRequestBytes) return fail(Errc::invalid_argument, "ocsp request larger than 64 KiB");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = p + der.size();
  OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!request) return openssl_error(Errc::invalid_argument, "ocsp request is not DER");
  if (p != end) return fail(Errc::invalid_argument, "ocsp request has trailing data");

  const int count = OCSP_request_onereq_count(request.get());
  if (count <= 0) return fail(Errc::invalid_argument, "ocsp request names no certificate");
  if (static_cast<std::size_t>(count) > kMaxOcspCertIds) {
    return fail(Errc::invalid_argument, "ocsp request names more than " + std::to_string(kMaxOcspCertIds) +
                                            " certificates");
  }
  OcspRequestInfo info;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));  // borrowed
    ASN1_OBJECT* algorithm = nullptr;  // borrowed from id
    ASN1_INTEGER* serial = nullptr;    // borrowed from id
    if (id == nullptr || OCSP_id_get0_info(nullptr, &algorithm, nullptr, &serial, id) != 1) {
      return openssl_error(Errc::invalid_argument, "ocsp request has an unreadable CertID");
    }
    const int nid = OBJ_obj2nid(algorithm);
    info.cert_ids.push_back({nid == NID_undef ? "unknown" : OBJ_nid2sn(nid), asn1_integer_to_decimal(serial)});
  }
  info.has_nonce = OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1) >= 0;
  info.request = std::move(request);
  return info;
}

Result<std::string> decode_ocsp_get_path(std::string_view suffix) {
  if (suffix.empty()) return fail(Errc::invalid_argument, "ocsp GET path holds no request");
  if (suffix.size() > kMaxOcspGetPathBytes) return fail(Errc::invalid_argument, "ocsp GET path too long");
  std::string base64;
  base64.reserve(suffix.size());
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (suffix[i] != '%') {
      base64 += suffix[i];  // '+' and '/' are base64 characters here, not a space or a separator
      continue;
    }
    const int high = i + 2 < suffix.size() ? hex_value(suffix[i + 1]) : -1;
    const int low = i + 2 < suffix.size() ? hex_value(suffix[i + 2]) : -1;
    if (high < 0 || low < 0) return fail(Errc::invalid_argument, "ocsp GET path has a bad percent escape");
    base64 += static_cast<char>(high * 16 + low);
    i += 2;
  }
  if (base64.size() % 4 == 1) return fail(Errc::invalid_argument, "ocsp GET path is not base64");
  while (base64.size() % 4 != 0) base64 += '=';  // some clients drop the padding
  auto der = common::base64_decode(base64);
  if (!der) return fail(Errc::invalid_argument, "ocsp GET path is not base64: " + der.error().message);
  return common::to_string(*der);
}

Result<std::string> respond(const OcspRequestInfo& request, const signing::CertificateAuthority& ca,
                            const OcspStatusLookup& lookup, common::TimePoint now, std::chrono::seconds validity) {
  if (validity <= std::chrono::seconds::zero()) return fail(Errc::invalid_argument, "ocsp validity must be positive");
  if (!request.request) return fail(Errc::invalid_argument, "ocsp request is empty");
  OCSP_REQUEST* req = request.request.get();  // borrowed
  auto this_update = to_asn1_time(now);
  if (!this_update) return tl::unexpected(this_update.error());
  auto next_update = to_asn1_time(now + validity);
  if (!next_update) return tl::unexpected(next_update.error());

  OcspBasicRespPtr basic(OCSP_BASICRESP_new());
  if (!basic) return openssl_error(Errc::internal, "allocating an ocsp response");
  const X509* issuer = ca.intermediate().get();
  const int count = OCSP_request_onereq_count(req);
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));  // borrowed
    auto is_ours = names_issuer(id, issuer);
    if (!is_ours) return tl::unexpected(is_ours.error());
    CertStatus status = CertStatus::unknown();
    if (*is_ours) {
      ASN1_INTEGER* serial = nullptr;  // borrowed from id
      if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id) != 1 || serial == nullptr) {
        return openssl_error(Errc::internal, "reading a CertID serial");
      }
      auto looked_up = lookup(asn1_integer_to_decimal(serial));
      if (!looked_up) return tl::unexpected(looked_up.error());
      status = *looked_up;
    }
    if (auto added = add_status(basic.get(), id, status, this_update->get(), next_update->get()); !added) {
      return tl::unexpected(added.error());
    }
  }
  if (OCSP_copy_nonce(basic.get(), req) <= 0) return openssl_error(Errc::internal, "echoing the ocsp nonce");
  if (auto signed_ok = sign(basic.get(), ca, this_update->get()); !signed_ok) {
    return tl::unexpected(signed_ok.error());
  }
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (!response) return openssl_error(Errc::internal, "wrapping the ocsp response");
  return encode(response.get());
}

Result<std::string> error_response(OcspResponseStatus status) {
  OcspResponsePtr response(OCSP_response_create(static_cast<int>(status), nullptr));
  if (!response) return openssl_error(Errc::internal, "creating an ocsp error response");
  return encode(response.get());
}

Result<std::string> answer_ocsp_request(std::string_view der, const signing::CertificateAuthority& ca,
                                        const OcspStatusLookup& lookup, common::TimePoint now,
                                        std::chrono::seconds validity) {
  // The wire carries only the status, so the reason is dropped here; a
  // caller that logs it calls parse_ocsp_request and respond itself.
  auto request = parse_ocsp_request(der);
  if (!request) return error_response(OcspResponseStatus::malformed_request);
  auto response = respond(*request, ca, lookup, now, validity);
  if (response) return response;
  return error_response(response.error().code == Errc::unavailable ? OcspResponseStatus::try_later
                                                                   : OcspResponseStatus::internal_error);
}

}  // namespace keystep::revocation
