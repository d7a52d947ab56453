#include "issuer/authority/authority.h"

#include <algorithm>

#include "issuer/common/log.h"
#include "issuer/crypto/csr.h"
#include "issuer/crypto/key.h"
#include "issuer/policy/time_format.h"

namespace keystep::authority {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("authority");
  return logger;
}

}  // namespace

Authority::Authority(AuthorityOptions options, std::shared_ptr<const signing::CertificateAuthority> ca,
                     const common::Clock& clock, storage::Store& store, metrics::Metrics* metrics)
    : options_(std::move(options)),
      ca_(std::move(ca)),
      clock_(clock),
      store_(store),
      metrics_(metrics),
      audiences_(options_.dns_names),
      started_at_(std::chrono::time_point_cast<std::chrono::seconds>(clock.now())) {}

Result<std::unique_ptr<Authority>> Authority::create(AuthorityOptions options,
                                                     std::shared_ptr<const signing::CertificateAuthority> ca,
                                                     const common::Clock& clock, storage::Store& store,
                                                     metrics::Metrics* metrics) {
  if (options.dns_names.empty()) return fail(Errc::invalid_argument, "dnsNames: at least one name is required");
  if (auto s = policy::validate_claims(options.claims, "claims"); !s) return tl::unexpected(s.error());
  if (options.backdate < std::chrono::seconds(0)) return fail(Errc::invalid_argument, "backdate: must not be negative");
  auto name_policy = policy::NamePolicy::create(options.policy, "policy");
  if (!name_policy) return tl::unexpected(name_policy.error());
  auto configs = std::move(options.provisioners);
  auto k8ssa_configs = std::move(options.k8ssa);
  std::unique_ptr<Authority> authority(
      new Authority(std::move(options), std::move(ca), clock, store, metrics));
  authority->name_policy_ = std::move(*name_policy);
  auto extensions = signing::encode_distribution_extensions(authority->options_.distribution);
  if (!extensions) return tl::unexpected(extensions.error());
  authority->leaf_extensions_ = std::move(*extensions);
  for (auto& config : configs) {
    auto p = provisioners::JwkProvisioner::create(std::move(config), authority->options_.claims);
    if (!p) return tl::unexpected(p.error());
    for (const auto& existing : authority->provisioners_) {
      if (existing.name() == p->name()) {
        return fail(Errc::invalid_argument, "provisioners: the name \"" + p->name() + "\" is used twice");
      }
    }
    std::size_t index = authority->provisioners_.size();
    authority->by_token_id_[p->name() + ":" + p->kid()] = index;
    authority->by_kid_.try_emplace(p->kid(), index);
    authority->by_name_.emplace(p->name(), index);
    authority->provisioners_.push_back(std::move(*p));
  }
  for (auto& config : k8ssa_configs) {
    auto p = provisioners::K8sSaProvisioner::create(std::move(config), authority->options_.claims);
    if (!p) return tl::unexpected(p.error());
    if (authority->by_name_.count(p->name()) != 0) {
      return fail(Errc::invalid_argument, "provisioners: the name \"" + p->name() + "\" is used twice");
    }
    for (const auto& existing : authority->k8ssa_) {
      if (existing.name() == p->name()) {
        return fail(Errc::invalid_argument, "provisioners: the name \"" + p->name() + "\" is used twice");
      }
    }
    authority->k8ssa_.push_back(std::move(*p));
  }
  const auto& acme = authority->options_.acme;
  for (std::size_t i = 0; i < acme.size(); ++i) {
    const bool twice = std::any_of(acme.begin(), acme.begin() + static_cast<std::ptrdiff_t>(i),
                                   [&](const auto& other) { return other.name == acme[i].name; });
    const bool taken = authority->by_name_.count(acme[i].name) != 0 ||
                       std::any_of(authority->k8ssa_.begin(), authority->k8ssa_.end(),
                                   [&](const auto& k) { return k.name() == acme[i].name; });
    if (twice || taken) {
      return fail(Errc::invalid_argument, "provisioners: the name \"" + acme[i].name + "\" is used twice");
    }
  }
  return authority;
}

const provisioners::JwkProvisioner* Authority::find_by_kid(std::string_view kid) const {
  auto it = by_kid_.find(std::string(kid));
  return it == by_kid_.end() ? nullptr : &provisioners_[it->second];
}

const provisioners::JwkProvisioner* Authority::find_by_name(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &provisioners_[it->second];
}

const acme::AcmeProvisionerConfig* Authority::find_acme(std::string_view name) const {
  for (const auto& p : options_.acme) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Result<signing::IssuedCertificate> Authority::sign_acme(const AcmeSignRequest& request) const {
  const signing::ProvisionerRef ref{signing::ProvisionerType::acme, request.provisioner, ""};
  const policy::Names names{request.subject, request.dns, request.ips, {}, {}};
  const auto started = std::chrono::steady_clock::now();
  auto issued = issue_leaf({request.csr, options_.claims, names, request.subject, ref, request.not_before,
                            request.not_after, request.provisioner, request.requester, request.order_id, "acme"});
  if (metrics_ != nullptr) {
    metrics_->certificate_issued(request.provisioner, issued.has_value());
    if (issued) {
      metrics_->sign_duration(std::chrono::steady_clock::now() - started);
    } else {
      metrics_->request_denied(issued.error().reason);
    }
  }
  if (!issued) return tl::unexpected(std::move(issued.error().error));
  return std::move(*issued);
}

bool Authority::has_provisioner(std::string_view name) const {
  if (find_by_name(name) != nullptr || find_acme(name) != nullptr) return true;
  return std::any_of(k8ssa_.begin(), k8ssa_.end(), [&](const auto& p) { return p.name() == name; });
}

const provisioners::K8sSaProvisioner* Authority::k8ssa_for(const nlohmann::json& claims) const {
  const auto token_audiences = provisioners::audience_claim(claims);
  for (const auto& p : k8ssa_) {
    for (const auto& a : p.audiences()) {
      if (std::find(token_audiences.begin(), token_audiences.end(), a) != token_audiences.end()) return &p;
    }
  }
  return nullptr;
}

bool Authority::owns_token(const jose::Jws& jws, const nlohmann::json& claims) const {
  if (provisioners::K8sSaProvisioner::looks_like_service_account_token(claims)) return k8ssa_for(claims) != nullptr;
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || !audiences_.any(claims.value("aud", nlohmann::json()))) return false;
  return by_token_id_.count(iss->get<std::string>() + ":" + jws.kid()) != 0;
}

Result<provisioners::TokenGrant> Authority::authorize(std::string_view ott, provisioners::Audience kind,
                                                      const provisioners::JwkProvisioner** provisioner) const {
  auto jws = jose::parse_compact(ott);
  if (!jws) return tl::unexpected(jws.error());
  auto claims = jose::payload_json(*jws);
  if (!claims) return tl::unexpected(claims.error());
  return authorize(*jws, *claims, ott, kind, provisioner);
}

Result<provisioners::TokenGrant> Authority::authorize(const jose::Jws& parsed, const nlohmann::json& token_claims,
                                                      std::string_view ott, provisioners::Audience kind,
                                                      const provisioners::JwkProvisioner** provisioner) const {
  const jose::Jws* jws = &parsed;
  const nlohmann::json* claims = &token_claims;
  auto aud = claims->value("aud", nlohmann::json());
  auto iss = claims->value("iss", nlohmann::json());
  if (!audiences_.any(aud) || !iss.is_string()) {
    return fail(Errc::unauthenticated, "provisioner not found or invalid audience");
  }
  auto it = by_token_id_.find(iss.get<std::string>() + ":" + jws->kid());
  if (it == by_token_id_.end()) return fail(Errc::unauthenticated, "provisioner not found or invalid audience");
  const auto& p = provisioners_[it->second];
  const auto now = clock_.now();
  auto grant = p.authorize(*jws, *claims, ott, audiences_, kind, now);
  if (!grant) return tl::unexpected(grant.error());
  if (!options_.disable_issued_at_check) {
    if (auto iat = claims->find("iat"); iat != claims->end() && iat->is_number() &&
                                        common::TimePoint(std::chrono::seconds(iat->get<std::int64_t>())) < started_at_) {
      return fail(Errc::unauthenticated, "token issued before the bootstrap of certificate authority");
    }
  }
  // Single use, recorded only once the token is proven authentic, so an
  // unsigned token cannot burn somebody else's id.
  if (auto used = store_.use_token(p.name(), grant->token_id, provisioners::remember_token_until(grant->expires_at));
      !used) {
    if (used.error().code == Errc::unavailable && metrics_ != nullptr) metrics_->database_error("use_token");
    if (used.error().code == Errc::already_exists) return fail(Errc::already_exists, "token already used");
    return tl::unexpected(used.error());
  }
  *provisioner = &p;
  return grant;
}

DecodedToken DecodedToken::decode(std::string_view ott) {
  DecodedToken out{jose::parse_compact(ott), fail(Errc::unauthenticated, "token not decoded")};
  out.claims = out.jws ? jose::payload_json(*out.jws) : Result<nlohmann::json>(tl::unexpected(out.jws.error()));
  return out;
}

Result<signing::IssuedCertificate> Authority::sign(const SignRequest& request) const {
  return sign(request, DecodedToken::decode(request.ott));
}

Result<signing::IssuedCertificate> Authority::sign(const SignRequest& request, const DecodedToken& token) const {
  const auto started = std::chrono::steady_clock::now();
  std::string provisioner_name;
  auto issued = sign_request(request, token, &provisioner_name);
  if (metrics_ != nullptr) {
    if (issued) {
      metrics_->certificate_issued(provisioner_name, true);
      metrics_->sign_duration(std::chrono::steady_clock::now() - started);
    } else {
      metrics_->request_denied(issued.error().reason);
      if (!provisioner_name.empty()) metrics_->certificate_issued(provisioner_name, false);
    }
  }
  if (!issued) return tl::unexpected(std::move(issued.error().error));
  return std::move(*issued);
}

tl::expected<signing::IssuedCertificate, Authority::Denial> Authority::sign_request(const SignRequest& request,
                                                                                 const DecodedToken& token,
                                                                                 std::string* provisioner_name) const {
  using metrics::DenialReason;
  auto refuse = [](DenialReason reason, Error e) { return tl::unexpected(Denial{std::move(e), reason}); };
  if (request.csr_pem.empty()) return refuse(DenialReason::bad_request, {Errc::invalid_argument, "missing csr"});
  if (request.ott.empty()) return refuse(DenialReason::bad_request, {Errc::invalid_argument, "missing ott"});
  auto csr = crypto::Csr::from_pem(request.csr_pem);
  if (!csr) return refuse(DenialReason::bad_request, with_context(csr.error(), "invalid csr"));
  auto not_before = policy::parse_time_or_duration(request.not_before);
  if (!not_before) return refuse(DenialReason::bad_request, with_context(not_before.error(), "notBefore"));
  auto not_after = policy::parse_time_or_duration(request.not_after);
  if (!not_after) return refuse(DenialReason::bad_request, with_context(not_after.error(), "notAfter"));

  // The token is decoded once: to route it (K8sSA or JWK), then to verify it.
  const auto& jws = token.jws;
  const auto& claims = token.claims;
  if (claims && !k8ssa_.empty() && provisioners::K8sSaProvisioner::looks_like_service_account_token(*claims)) {
    return sign_service_account(request, *csr, *claims, *not_before, *not_after, provisioner_name);
  }
  const provisioners::JwkProvisioner* provisioner = nullptr;
  auto grant = claims ? authorize(*jws, *claims, request.ott, provisioners::Audience::sign, &provisioner)
                      : Result<provisioners::TokenGrant>(tl::unexpected(claims.error()));
  if (!grant) {
    log()->info("certificate denied reason=\"{}\"", grant.error().message);
    if (grant.error().code == Errc::already_exists) {
      return refuse(DenialReason::token_replayed, {Errc::unauthenticated, grant.error().message});
    }
    const bool unavailable = grant.error().code == Errc::unavailable || grant.error().code == Errc::internal;
    return refuse(unavailable ? DenialReason::unavailable : DenialReason::bad_token, grant.error());
  }
  *provisioner_name = provisioner->name();
  auto deny = [&](DenialReason reason, const Error& e) {
    log()->info("certificate denied provisioner={} subject={} reason=\"{}\"", provisioner->name(), grant->subject,
                e.message);
    return refuse(reason, e);
  };
  if (auto s = provisioners::check_csr_against_grant(*csr, *grant); !s) {
    return deny(DenialReason::name_not_allowed, s.error());
  }
  return issue_leaf({*csr, provisioner->claims(), grant->names, grant->subject, grant->provisioner, *not_before,
                     *not_after, provisioner->name(), grant->subject, request.request_id});
}

tl::expected<signing::IssuedCertificate, Authority::Denial> Authority::issue_leaf(const LeafGrant& g) const {
  using metrics::DenialReason;
  auto deny = [&](DenialReason reason, const Error& e) {
    log()->info("certificate denied provisioner={} subject={} reason=\"{}\"", g.provisioner_name, g.requester,
                e.message);
    return tl::unexpected(Denial{e, reason});
  };
  if (auto s = crypto::check_leaf_key(g.csr.public_key()); !s) return deny(DenialReason::key_rejected, s.error());
  if (g.csr.requests_ca()) {
    return deny(DenialReason::ca_not_allowed,
                {Errc::permission_denied, "certificate request asks for a CA certificate; this CA issues leaves only"});
  }
  auto ca = ca_.load();
  const auto now = clock_.now();
  auto validity = policy::compute_validity(g.claims, now, options_.backdate, g.not_before, g.not_after,
                                           ca->intermediate().not_after());
  if (!validity) {
    const bool ca_state = validity.error().code == Errc::failed_precondition;
    return deny(ca_state ? DenialReason::unavailable : DenialReason::lifetime_rejected, validity.error());
  }
  if (auto s = name_policy_.check(g.names); !s) return deny(DenialReason::name_not_allowed, s.error());

  signing::LeafRequest leaf{.public_key = g.csr.public_key(),
                            .public_key_info = g.csr.public_key_info(),
                            .common_name = g.subject,
                            .sans = {g.names.dns, g.names.ips, g.names.emails, g.names.uris},
                            .not_before = validity->not_before,
                            .not_after = validity->not_after,
                            .provisioner = g.provisioner,
                            .extra_extensions = &leaf_extensions_};
  auto issued = signing::Signer(ca).sign(leaf);
  if (!issued) {
    const bool constraint = issued.error().code == Errc::permission_denied;
    return deny(constraint ? DenialReason::name_not_allowed : DenialReason::unavailable, issued.error());
  }
  if (auto s = record(*issued, g.provisioner_name, g.requester, g.source, g.request_id); !s) {
    return deny(DenialReason::unavailable, s.error());
  }
  log()->info("certificate issued serial={} provisioner={} subject={} requester={} not_after={}",
              issued->leaf.serial_decimal(), g.provisioner_name, g.subject, g.requester,
              policy::format_rfc3339(issued->leaf.not_after()));
  return std::move(*issued);
}

tl::expected<signing::IssuedCertificate, Authority::Denial> Authority::sign_service_account(
    const SignRequest& request, const crypto::Csr& csr, const nlohmann::json& claims,
    const std::optional<policy::TimeOrDuration>& not_before, const std::optional<policy::TimeOrDuration>& not_after,
    std::string* provisioner_name) const {
  using metrics::DenialReason;
  auto refuse = [](DenialReason reason, Error e) { return tl::unexpected(Denial{std::move(e), reason}); };
  // Route by the token's (unverified) audience; the review then proves it.
  const provisioners::K8sSaProvisioner* provisioner = k8ssa_for(claims);
  if (provisioner == nullptr) {
    log()->info("certificate denied reason=\"service account token for no provisioner's audience\"");
    return refuse(DenialReason::bad_token,
                  {Errc::unauthenticated, "service account token is not bound to the audience of a K8sSA provisioner"});
  }
  *provisioner_name = provisioner->name();
  provisioners::TokenReviewer* reviewer =
      provisioner->config().verification == provisioners::K8sSaTokenVerification::jwks ? options_.jwks_verifier
                                                                                         : options_.token_reviewer;
  if (reviewer == nullptr) {
    return refuse(DenialReason::unavailable,
                  {Errc::unavailable, "K8sSA provisioner \"" + provisioner->name() + "\" needs --kubernetes to verify tokens"});
  }
  const auto now = clock_.now();
  auto grant = provisioner->authorize(request.ott, *reviewer, now);
  if (!grant) {
    log()->info("certificate denied provisioner={} reason=\"{}\"", provisioner->name(), grant.error().message);
    const bool unavailable = grant.error().code == Errc::unavailable || grant.error().code == Errc::internal;
    const bool forbidden = grant.error().code == Errc::permission_denied;
    return refuse(unavailable ? DenialReason::unavailable : forbidden ? DenialReason::name_not_allowed : DenialReason::bad_token,
                  grant.error());
  }
  const std::string requester = "system:serviceaccount:" + grant->ns + ":" + grant->service_account;
  auto deny = [&](DenialReason reason, const Error& e) {
    log()->info("certificate denied provisioner={} subject={} reason=\"{}\"", provisioner->name(), requester, e.message);
    return refuse(reason, e);
  };
  if (auto s = provisioner->check_csr(csr, *grant); !s) return deny(DenialReason::name_not_allowed, s.error());
  return issue_leaf({csr, provisioner->claims(), grant->names, grant->subject, grant->provisioner, not_before,
                     not_after, provisioner->name(), requester, request.request_id});
}

Status Authority::record(const signing::IssuedCertificate& issued, const std::string& provisioner,
                         const std::string& requester, const std::string& source, const std::string& request_id) const {
  const auto& leaf = issued.leaf;
  storage::CertificateRecord r;
  r.serial = leaf.serial_decimal();
  r.subject = leaf.common_name();
  auto sans = leaf.subject_alt_names();
  for (const auto& [prefix, list] : {std::pair{"dns:", &sans.dns}, std::pair{"ip:", &sans.ips},
                                     std::pair{"email:", &sans.emails}, std::pair{"uri:", &sans.uris}}) {
    for (const auto& v : *list) r.sans.push_back(prefix + v);
  }
  r.not_before = leaf.not_before();
  r.not_after = leaf.not_after();
  r.key_type = crypto::describe_key(leaf.public_key());
  r.issuer_fingerprint = issued.chain.size() > 1 ? issued.chain[1].sha256_hex() : "";
  r.provisioner = provisioner;
  r.requester = requester;
  r.source = source;
  r.request_id = request_id;
  r.fingerprint = leaf.sha256_hex();
  r.pem = leaf.pem();
  r.created_at = clock_.now();
  if (auto s = store_.insert_certificate(r); !s) {
    if (s.error().code == Errc::already_exists) {
      // A serial collision or, for a CertificateRequest, another replica
      // won; the caller decides.
      log()->debug("certificate not recorded serial={} request_id={} error=\"{}\"", r.serial, request_id,
                   s.error().message);
      return fail(Errc::already_exists, "the ledger already holds this certificate or request");
    }
    if (metrics_ != nullptr) metrics_->database_error("insert_certificate");
    log()->error("certificate not recorded serial={} error=\"{}\"", r.serial, s.error().message);
    if (s.error().code == Errc::unavailable) {
      return fail(Errc::unavailable, "the certificate ledger is unavailable; nothing was issued");
    }
    return fail(Errc::internal, "cannot record the certificate");
  }
  return ok();
}

Result<signing::IssuedCertificate> Authority::issue_server_certificate(EVP_PKEY* key,
                                                                       std::chrono::seconds lifetime) const {
  crypto::SubjectAltNames sans;
  for (const auto& name : options_.dns_names) {
    auto kind = policy::classify_san(name);
    if (kind == policy::SanType::ip) sans.ips.push_back(name);
    else sans.dns.push_back(name);
  }
  const auto now = clock_.now();
  signing::LeafRequest leaf{.public_key = key,
                            .common_name = options_.dns_names.front(),
                            .sans = sans,
                            .not_before = now - options_.backdate,
                            .not_after = now + lifetime};
  return signing::Signer(ca_.load()).sign(leaf);
}

}  // namespace keystep::authority
