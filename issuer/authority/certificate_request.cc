// Authority::sign_certificate_request: the cert-manager CertificateRequest
// path. No token: the Kubernetes RBAC and the approver authorised the
// request, so the CSR's own names are what the policy checks.

#include <openssl/x509v3.h>

#include <algorithm>

#include "issuer/authority/authority.h"
#include "issuer/common/log.h"
#include "issuer/crypto/csr.h"
#include "issuer/crypto/key.h"
#include "issuer/policy/key_usages.h"
#include "issuer/policy/time_format.h"

namespace keystep::authority {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("authority");
  return logger;
}

constexpr char kSource[] = "certificaterequest";

}  // namespace

Result<signing::IssuedCertificate> Authority::sign_certificate_request(const CsrSignRequest& request) const {
  const auto started = std::chrono::steady_clock::now();
  bool signed_now = false;
  auto issued = sign_csr_request(request, &signed_now);
  if (metrics_ != nullptr) {
    if (issued && signed_now) {
      metrics_->certificate_issued(request.provisioner, true);
      metrics_->sign_duration(std::chrono::steady_clock::now() - started);
    } else if (!issued) {
      metrics_->request_denied(issued.error().reason);
      metrics_->certificate_issued(request.provisioner, false);
    }
  }
  if (!issued) return tl::unexpected(std::move(issued.error().error));
  return std::move(*issued);
}

Result<std::optional<signing::IssuedCertificate>> Authority::issued_for_request(const std::string& request_id) const {
  auto record = store_.find_certificate_by_request(request_id);
  if (!record) {
    if (metrics_ != nullptr) metrics_->database_error("find_certificate_by_request");
    if (record.error().code == Errc::unavailable) {
      return fail(Errc::unavailable, "the certificate ledger is unavailable: " + record.error().message);
    }
    return tl::unexpected(record.error());
  }
  if (!record->has_value()) return std::optional<signing::IssuedCertificate>();
  auto leaf = crypto::Certificate::from_pem((*record)->pem);
  if (!leaf) {
    return fail(Errc::internal, "the ledger's certificate for request " + request_id + " cannot be read: " +
                                    leaf.error().message);
  }
  signing::IssuedCertificate issued{*leaf, {*leaf}};
  // The chain is only known for the intermediate in use; after a rotation
  // the leaf alone is better than a chain that does not verify.
  auto ca = ca_.load();
  if (!ca->chain().empty() && ca->chain().front().sha256_hex() == (*record)->issuer_fingerprint) {
    for (const auto& c : ca->chain()) issued.chain.push_back(c);
  }
  return std::optional<signing::IssuedCertificate>(std::move(issued));
}

tl::expected<signing::IssuedCertificate, Authority::Denial> Authority::sign_csr_request(const CsrSignRequest& request,
                                                                                     bool* signed_now) const {
  using metrics::DenialReason;
  auto deny = [&](DenialReason reason, Error e) {
    log()->info("certificate denied request_id={} provisioner={} requester={} reason=\"{}\"", request.request_id,
                request.provisioner, request.requester, e.message);
    return tl::unexpected(Denial{std::move(e), reason});
  };
  if (request.request_id.empty()) {
    return deny(DenialReason::bad_request, {Errc::invalid_argument, "missing request id (the CertificateRequest UID)"});
  }
  if (request.csr_pem.empty()) return deny(DenialReason::bad_request, {Errc::invalid_argument, "missing csr"});
  auto csr = crypto::Csr::from_pem(request.csr_pem);
  if (!csr) return deny(DenialReason::bad_request, with_context(csr.error(), "invalid csr"));

  // One certificate per UID: an earlier answer stands, even if the policy
  // changed since it was given.
  auto earlier = issued_for_request(request.request_id);
  if (!earlier) return deny(DenialReason::unavailable, earlier.error());
  if (earlier->has_value()) {
    if (!crypto::same_public_key((*earlier)->leaf.public_key(), csr->public_key())) {
      return deny(DenialReason::bad_request,
                  {Errc::failed_precondition, "request " + request.request_id +
                                                  " already has a certificate, for another public key"});
    }
    log()->debug("certificate already issued serial={} request_id={}", (*earlier)->leaf.serial_decimal(),
                 request.request_id);
    return std::move(**earlier);
  }

  if (auto s = crypto::check_leaf_key(csr->public_key()); !s) return deny(DenialReason::key_rejected, s.error());
  const auto& csr_sans = csr->sans();
  policy::Names names{csr->common_name(), csr_sans.dns, csr_sans.ips, csr_sans.emails, csr_sans.uris};
  if (names.common_name.empty() && names.dns.empty() && names.ips.empty() && names.emails.empty() &&
      names.uris.empty()) {
    return deny(DenialReason::bad_request,
                {Errc::invalid_argument, "csr names nothing: it has neither a common name nor SANs"});
  }
  if (auto s = name_policy_.check(names); !s) return deny(DenialReason::name_not_allowed, s.error());
  const bool is_ca = request.is_ca || csr->requests_ca();
  if (is_ca && !options_.allow_ca) {
    return deny(DenialReason::ca_not_allowed,
                {Errc::permission_denied, "the request asks for a CA certificate; this issuer's policy.allowCA is false"});
  }
  auto usages = policy::parse_key_usages(request.usages);
  if (!usages) return deny(DenialReason::bad_request, with_context(usages.error(), "usages"));
  if (!is_ca && (usages->key_usage & KU_KEY_CERT_SIGN) != 0) {
    // RFC 5280 4.2.1.3: keyCertSign requires basicConstraints cA.
    return deny(DenialReason::bad_request, {Errc::invalid_argument, "usages: \"cert sign\" requires isCA"});
  }

  const auto& claims = options_.claims;
  if (request.duration && request.duration->count() <= 0) {
    return deny(DenialReason::bad_request, {Errc::invalid_argument, "duration must be positive"});
  }
  const common::Duration lifetime = std::clamp<common::Duration>(
      request.duration ? common::Duration(*request.duration) : claims.default_duration, claims.min_duration,
      claims.max_duration);
  auto ca = ca_.load();
  auto validity = policy::compute_validity(claims, clock_.now(), options_.backdate, std::nullopt,
                                           policy::TimeOrDuration{lifetime}, ca->intermediate().not_after());
  if (!validity) {
    if (validity.error().code == Errc::failed_precondition) {
      // The intermediate has expired: fixed by rotating the CA Secret, so the
      // request should wait, not fail for good.
      return deny(DenialReason::unavailable, {Errc::unavailable, validity.error().message});
    }
    return deny(DenialReason::lifetime_rejected, validity.error());
  }

  signing::LeafRequest leaf{.public_key = csr->public_key(),
                            .public_key_info = csr->public_key_info(),
                            .common_name = csr->common_name(),
                            .sans = csr_sans,
                            .not_before = validity->not_before,
                            .not_after = validity->not_after,
                            .extra_extensions = &leaf_extensions_,
                            .usages = *usages,
                            .is_ca = is_ca};
  auto issued = signing::Signer(ca).sign(leaf);
  if (!issued) {
    const bool constraint = issued.error().code == Errc::permission_denied;
    if (constraint) return deny(DenialReason::name_not_allowed, issued.error());
    return deny(DenialReason::unavailable, {Errc::unavailable, issued.error().message});
  }
  if (auto s = record(*issued, request.provisioner, request.requester, kSource, request.request_id); !s) {
    if (s.error().code != Errc::already_exists) return deny(DenialReason::unavailable, s.error());
    // Another replica recorded a certificate for this UID first: its
    // certificate is the answer, ours was never handed out.
    auto winner = issued_for_request(request.request_id);
    if (!winner) return deny(DenialReason::unavailable, winner.error());
    if (!winner->has_value()) {  // a serial collision; a retry draws a new serial
      return deny(DenialReason::unavailable, {Errc::unavailable, "serial already in use; retry"});
    }
    log()->info("certificate issued by another replica serial={} request_id={}", (*winner)->leaf.serial_decimal(),
                request.request_id);
    return std::move(**winner);
  }
  *signed_now = true;
  log()->info("certificate issued serial={} provisioner={} requester={} subject={} request_id={} is_ca={} not_after={}",
              issued->leaf.serial_decimal(), request.provisioner, request.requester, csr->common_name(),
              request.request_id, is_ca, policy::format_rfc3339(issued->leaf.not_after()));
  return std::move(*issued);
}

}  // namespace keystep::authority
