// Authority::revoke and Authority::renew: the lifecycle of certificates the
// CA issued (reference §4.2 and §7.1).


#include "issuer/authority/authority.h"
#include "issuer/common/base64.h"
#include "issuer/common/log.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/policy/time_format.h"
#include "issuer/revocation/serial.h"
#include "issuer/signing/provisioner_extension.h"

namespace keystep::authority {
namespace {

constexpr char kRenewTokenIssuer[] = "step-ca-client/1.0";
constexpr char kRenewTokenLedger[] = "renew-token";
constexpr std::size_t kMaxX5cCertificates = 8;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("authority");
  return logger;
}

Result<crypto::Certificate> leaf_from_der(const std::string& der) {
  return crypto::Certificate::from_der(reinterpret_cast<const unsigned char*>(der.data()), der.size());
}

}  // namespace

Result<std::string> Authority::revoke(const RevokeRequest& request) const {
  if (!request.passive) return fail(Errc::unimplemented, "only passive revocation is supported");
  if (request.serial.empty()) return fail(Errc::invalid_argument, "missing serial");
  auto serial = revocation::normalize_serial(request.serial);
  if (!serial) {
    // step-ca's wording, which its clients show.
    return fail(Errc::invalid_argument, "'" + request.serial.substr(0, revocation::kMaxSerialInput) +
                                            "' is not a valid serial number - use a base 10 representation or a "
                                            "base 16 representation with '0x' prefix");
  }
  if (request.reason_code < 0 || request.reason_code > 10 || request.reason_code == 7) {
    return fail(Errc::invalid_argument, "reasonCode out of bounds");
  }
  std::string actor;
  std::string provisioner_name;
  if (!request.ott.empty()) {
    const provisioners::JwkProvisioner* provisioner = nullptr;
    auto grant = authorize(request.ott, provisioners::Audience::revoke, &provisioner);
    if (!grant) {
      if (grant.error().code == Errc::already_exists) return fail(Errc::unauthenticated, grant.error().message);
      return tl::unexpected(grant.error());
    }
    if (grant->subject != *serial) {
      return fail(Errc::permission_denied, "request serial number \"" + *serial + "\" and token subject \"" +
                                               grant->subject + "\" do not match");
    }
    provisioner_name = provisioner->name();
    actor = "provisioner:" + provisioner->name();
  } else if (!request.peer_chain_der.empty()) {
    auto peer = leaf_from_der(request.peer_chain_der.front());
    if (!peer) return fail(Errc::invalid_argument, "client certificate does not parse");
    if (peer->serial_decimal() != *serial) {
      return fail(Errc::permission_denied, "request serial number \"" + *serial +
                                               "\" and client certificate serial number \"" + peer->serial_decimal() +
                                               "\" do not match");
    }
    if (auto ext = signing::decode_provisioner_extension(peer->get())) provisioner_name = ext->name;
    actor = "mtls:" + *serial;
  } else {
    return fail(Errc::invalid_argument, "missing ott or client certificate");
  }

  if (auto done = record_revocation(*serial, request.reason_code, request.reason, actor, provisioner_name); !done) {
    if (done.error().code == Errc::already_exists) {
      return fail(Errc::invalid_argument, "certificate with serial number '" + *serial + "' is already revoked");
    }
    return tl::unexpected(done.error());
  }
  return *serial;
}

Status Authority::record_revocation(const std::string& serial, int reason_code, const std::string& reason,
                                    const std::string& actor, const std::string& provisioner_name) const {
  storage::RevocationRecord record{serial, reason_code, reason, clock_.now(), actor, std::nullopt};
  auto known = store_.find_certificate(serial);
  if (!known) return tl::unexpected(known.error());
  // Unlike step-ca, only certificates in the ledger can be revoked: a typo
  // in a serial must not silently "succeed".
  if (!known->has_value()) {
    return fail(Errc::not_found, "no certificate with serial number " + serial + " was issued by this CA");
  }
  record.expires_at = (*known)->not_after;
  auto done = store_.revoke(record);
  if (metrics_ != nullptr) metrics_->certificate_revoked(provisioner_name, done.has_value());
  if (!done) {
    if (done.error().code == Errc::already_exists) {
      return fail(Errc::already_exists, "certificate with serial number '" + serial + "' is already revoked");
    }
    if (metrics_ != nullptr) metrics_->database_error("revoke");
    return tl::unexpected(done.error());
  }
  log()->info("certificate revoked serial={} reason_code={} actor={}", serial, reason_code, actor);
  return ok();
}

Result<crypto::Certificate> Authority::verify_renew_token(std::string_view token) const {
  auto invalid = [] { return fail(Errc::unauthenticated, "error validating renew token"); };
  auto jws = jose::parse_compact(token);
  if (!jws) return tl::unexpected(jws.error());
  auto x5c = jws->header.find("x5cInsecure");
  if (x5c == jws->header.end() || !x5c->is_array() || x5c->empty() || x5c->size() > kMaxX5cCertificates) {
    return invalid();
  }
  std::vector<crypto::Certificate> certs;
  for (const auto& entry : *x5c) {
    if (!entry.is_string()) return invalid();
    auto der = common::base64_decode(entry.get_ref<const std::string&>());
    if (!der) return invalid();
    auto cert = crypto::Certificate::from_der(der->data(), der->size());
    if (!cert) return invalid();
    certs.push_back(std::move(*cert));
  }
  const crypto::Certificate& leaf = certs.front();
  // The chain must lead to one of our roots; validity is not checked here
  // (an expired certificate may renew if its provisioner allows it).
  auto ca = ca_.load();
  crypto::X509StorePtr store(X509_STORE_new());
  for (const auto& root : ca->roots()) X509_STORE_add_cert(store.get(), root.get());
  crypto::X509StackPtr untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  for (const auto& c : ca->chain()) sk_X509_push(untrusted.get(), c.get());
  crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get());
  // Verify as of a moment inside the leaf's validity (its midpoint), so
  // even a certificate of a few seconds, long expired, can be checked.
  const auto inside = leaf.not_before() + (leaf.not_after() - leaf.not_before()) / 2;
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(inside));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return invalid();
  }
  if ((X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE) == 0) return invalid();
  auto jwk = jose::Jwk::from_pkey(leaf.public_key(), jws->alg());
  if (!jwk) return invalid();
  if (auto s = jose::verify(*jws, *jwk); !s) return tl::unexpected(s.error());

  auto claims = jose::payload_json(*jws);
  if (!claims) return tl::unexpected(claims.error());
  if (!audiences_.matches(claims->value("aud", nlohmann::json()), provisioners::Audience::renew)) {
    return fail(Errc::unauthenticated, "error validating renew token: invalid audience claim (aud)");
  }
  const std::string iss = claims->value("iss", "");
  auto ext = signing::decode_provisioner_extension(leaf.get());
  if (iss != kRenewTokenIssuer && !(ext && iss == ext->name)) {
    return fail(Errc::unauthenticated, "error validating renew token: invalid issuer claim (iss)");
  }
  if (const std::string cn = leaf.common_name(); !cn.empty() && claims->value("sub", "") != cn) {
    return fail(Errc::unauthenticated, "error validating renew token: invalid subject claim (sub)");
  }
  auto expires_at = provisioners::check_token_times(*claims, clock_.now());
  if (!expires_at) return tl::unexpected(with_context(expires_at.error(), "error validating renew token"));
  const std::string id = provisioners::token_id(*claims, token);
  const auto remember_until = provisioners::remember_token_until(*expires_at);
  if (auto used = store_.use_token(kRenewTokenLedger, id, remember_until); !used) {
    if (used.error().code == Errc::already_exists) return fail(Errc::unauthenticated, "token already used");
    return tl::unexpected(used.error());
  }
  return leaf;
}

Result<crypto::Certificate> Authority::renewable(const RenewRequest& request,
                                                 const provisioners::JwkProvisioner** provisioner) const {
  Result<crypto::Certificate> leaf = fail(Errc::invalid_argument, "missing client certificate");
  if (!request.peer_chain_der.empty()) {
    leaf = leaf_from_der(request.peer_chain_der.front());
    if (!leaf) return fail(Errc::invalid_argument, "client certificate does not parse");
  } else if (!request.bearer_token.empty()) {
    leaf = verify_renew_token(request.bearer_token);
  }
  if (!leaf) return leaf;
  const std::string serial = leaf->serial_decimal();
  auto revoked = store_.find_revocation(serial);
  if (!revoked) return tl::unexpected(revoked.error());
  if (revoked->has_value()) return fail(Errc::unauthenticated, "certificate has been revoked");
  auto ext = signing::decode_provisioner_extension(leaf->get());
  *provisioner = ext ? find_by_name(ext->name) : nullptr;
  if (*provisioner == nullptr) {
    return fail(Errc::unauthenticated, "the certificate's provisioner is not configured on this CA");
  }
  const auto& claims = (*provisioner)->claims();
  if (claims.disable_renewal) {
    return fail(Errc::unauthenticated, "renewal is disabled for provisioner " + (*provisioner)->name());
  }
  const auto now = clock_.now();
  if (now < leaf->not_before()) return fail(Errc::unauthenticated, "certificate is not valid yet");
  if (now > leaf->not_after() && !claims.allow_renewal_after_expiry) {
    return fail(Errc::unauthenticated, "certificate expired on " + policy::format_rfc3339(leaf->not_after()));
  }
  return leaf;
}

Result<signing::IssuedCertificate> Authority::renew(const RenewRequest& request) const {
  const provisioners::JwkProvisioner* provisioner = nullptr;
  auto old = renewable(request, &provisioner);
  if (!old) {
    if (metrics_ != nullptr && provisioner != nullptr) metrics_->certificate_renewed(provisioner->name(), false);
    log()->info("certificate renewal denied reason=\"{}\"", old.error().message);
    return tl::unexpected(old.error());
  }
  const auto now = clock_.now();
  const auto lifetime = old->not_after() - old->not_before() - options_.backdate;
  if (lifetime <= std::chrono::seconds(0)) return fail(Errc::invalid_argument, "the certificate's lifetime is too short to renew");
  auto sans = old->subject_alt_names();
  auto ext = signing::decode_provisioner_extension(old->get());
  signing::LeafRequest leaf{.public_key = old->public_key(),
                            .public_key_info = X509_get_X509_PUBKEY(old->get()),
                            .common_name = old->common_name(),
                            .sans = sans,
                            .not_before = now - options_.backdate,
                            .not_after = std::chrono::time_point_cast<std::chrono::seconds>(now + lifetime),
                            .provisioner = *ext,
                            .extra_extensions = &leaf_extensions_};
  auto issued = signing::Signer(ca_.load()).sign(leaf);
  if (issued) {
    if (auto s = record(*issued, provisioner->name(), "renew:" + old->serial_decimal(), "renew", request.request_id); !s) {
      issued = tl::unexpected(s.error());
    }
  }
  if (metrics_ != nullptr) metrics_->certificate_renewed(provisioner->name(), issued.has_value());
  if (!issued) return issued;
  log()->info("certificate renewed serial={} old_serial={} provisioner={} subject={} not_after={}",
              issued->leaf.serial_decimal(), old->serial_decimal(), provisioner->name(), old->common_name(),
              policy::format_rfc3339(issued->leaf.not_after()));
  return issued;
}

}  // namespace keystep::authority
