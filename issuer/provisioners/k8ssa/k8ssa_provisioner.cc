#include "issuer/provisioners/k8ssa/k8ssa_provisioner.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "issuer/common/duration.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/policy/dns_name.h"
#include "issuer/policy/quote.h"
#include "issuer/policy/uri_name.h"
#include "issuer/provisioners/jwk/token_claims.h"
#include "issuer/provisioners/k8ssa/name_template.h"

namespace keystep::provisioners {
namespace {

constexpr std::string_view kServiceAccountUserPrefix = "system:serviceaccount:";
constexpr std::size_t kMaxNameTemplates = crypto::kMaxCsrSans;

tl::unexpected<Error> invalid(const std::string& field, const std::string& message) {
  return fail(Errc::invalid_argument, field + ": " + message);
}

tl::unexpected<Error> unauthenticated(std::string message) {
  return fail(Errc::unauthenticated, std::move(message));
}

// is_dns_label is a Kubernetes (RFC 1123) label: 1..63 lower-case letters,
// digits and '-', starting and ending with a letter or digit.
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// is_dns_subdomain is a Kubernetes (RFC 1123) subdomain: dot-separated labels,
// at most 253 bytes. Service account and pod names are subdomains.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > policy::kMaxDnsNameLength) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    if (!is_dns_label(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

struct ServiceAccountName {
  std::string ns;
  std::string name;
};

// parse_username reads "system:serviceaccount:<namespace>:<name>".
std::optional<ServiceAccountName> parse_username(std::string_view username) {
  if (!username.starts_with(kServiceAccountUserPrefix)) return std::nullopt;
  username.remove_prefix(kServiceAccountUserPrefix.size());
  const std::size_t colon = username.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  ServiceAccountName sa{std::string(username.substr(0, colon)), std::string(username.substr(colon + 1))};
  if (!is_dns_label(sa.ns) || !is_dns_subdomain(sa.name)) return std::nullopt;
  return sa;
}

// name_is_valid checks an expanded template against the kind its template
// was validated for at create(). Wildcards are never produced.
bool name_is_valid(const std::string& name, policy::SanType kind) {
  if (policy::classify_san(name) != kind) return false;
  if (kind == policy::SanType::dns) return policy::is_valid_hostname(name);
  return policy::UriName::parse(name).has_value();
}

std::string_view kind_phrase(policy::SanType kind) {
  switch (kind) {
    case policy::SanType::ip: return "an IP address";
    case policy::SanType::email: return "an email address";
    case policy::SanType::uri: return "a URI";
    case policy::SanType::dns: return "a DNS name";
  }
  return "a name";
}

// token_expiry reads the unverified payload's exp, if any. Only exp is read:
// everything else the certificate depends on comes from the review.
// The jose errors are replaced by one generic message on purpose: the token
// is a credential, and its structure is the API server's business.
Result<std::optional<common::TimePoint>> token_expiry(std::string_view token, common::TimePoint now) {
  auto jws = jose::parse_compact(token);
  if (!jws) return unauthenticated("service account token is not a JWT");
  auto payload = jose::payload_json(*jws);
  if (!payload) return unauthenticated("service account token is not a JWT");
  auto exp = payload->find("exp");
  if (exp == payload->end() || exp->is_null()) return std::optional<common::TimePoint>();
  if (!exp->is_number()) return unauthenticated("service account token exp must be a number");
  const double exp_s = exp->get<double>();
  // Bound before converting: a huge exp must not overflow the TimePoint.
  constexpr double kMaxSeconds = 253402300799.0;  // 9999-12-31T23:59:59Z
  if (!(exp_s >= 0 && exp_s <= kMaxSeconds)) return unauthenticated("service account token exp is out of range");
  const auto exp_at = common::TimePoint(std::chrono::seconds(static_cast<std::int64_t>(exp_s)));
  if (exp_at < now - kTokenLeeway) return unauthenticated("service account token is expired (exp)");
  return std::optional<common::TimePoint>(exp_at);
}

tl::unexpected<Error> name_not_allowed(std::string_view name, const K8sSaGrant& grant) {
  return fail(Errc::permission_denied, "name " + policy::quote(name) + " is not allowed for service account " +
                                           grant.ns + "/" + grant.service_account);
}

bool contains(const std::vector<std::string>& list, std::string_view value, bool case_insensitive) {
  if (!case_insensitive) return std::find(list.begin(), list.end(), value) != list.end();
  const std::string lower = policy::to_lower_ascii(value);
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return policy::to_lower_ascii(s) == lower; });
}

}  // namespace

Result<K8sSaProvisioner> K8sSaProvisioner::create(K8sSaProvisionerConfig config, const policy::Claims& issuer_claims,
                                                  std::string_view path) {
  if (config.name.empty()) {
    if (path.empty()) return fail(Errc::invalid_argument, "provisioners: a provisioner needs a name");
    return invalid(std::string(path) + ".name", "is required");
  }
  const std::string prefix = path.empty() ? "provisioners[" + config.name + "]" : std::string(path);

  if (config.audiences.empty()) config.audiences.push_back(config.name);
  for (std::size_t i = 0; i < config.audiences.size(); ++i) {
    if (config.audiences[i].empty()) {
      return invalid(prefix + ".audiences[" + std::to_string(i) + "]", "must not be empty");
    }
  }

  if (!is_dns_subdomain(config.trust_domain)) {
    return invalid(prefix + ".trustDomain",
                   policy::quote(config.trust_domain) + " is not a lower-case DNS name");
  }

  for (std::size_t i = 0; i < config.namespaces.size(); ++i) {
    if (!is_dns_label(config.namespaces[i])) {
      return invalid(prefix + ".namespaces[" + std::to_string(i) + "]",
                     policy::quote(config.namespaces[i]) + " is not a namespace name (a lower-case DNS label)");
    }
  }

  if (config.name_templates.empty()) return invalid(prefix + ".names", "at least one name template is required");
  if (config.name_templates.size() > kMaxNameTemplates) {
    return invalid(prefix + ".names", "at most " + std::to_string(kMaxNameTemplates) + " name templates");
  }
  const NameTemplateValues sample{"sample-sa", "sample-ns", config.trust_domain, "sample-pod-0"};
  std::vector<policy::SanType> kinds;
  for (std::size_t i = 0; i < config.name_templates.size(); ++i) {
    const std::string field = prefix + ".names[" + std::to_string(i) + "]";
    auto expanded = expand_name_template(config.name_templates[i], sample);
    if (!expanded) return invalid(field, expanded.error().message);
    const std::string& name = **expanded;  // every sample value is non-empty
    if (name.empty()) return invalid(field, "must not be empty");
    const policy::SanType kind = policy::classify_san(name);
    if (kind != policy::SanType::dns && kind != policy::SanType::uri) {
      return invalid(field, "must produce a DNS name or a URI, not " + std::string(kind_phrase(kind)) + " (" +
                                policy::quote(name) + ")");
    }
    if (!name_is_valid(name, kind)) {
      const std::string what = kind == policy::SanType::dns ? "DNS name" : "URI";
      return invalid(field, "does not produce a valid " + what + " (" + policy::quote(name) + ")");
    }
    kinds.push_back(kind);
  }

  policy::Claims claims = config.claims.value_or(issuer_claims);
  if (auto s = policy::validate_claims(claims, prefix + ".claims"); !s) return tl::unexpected(s.error());
  return K8sSaProvisioner(std::move(config), claims, std::move(kinds));
}

nlohmann::json K8sSaProvisioner::to_json() const {
  nlohmann::json j = {{"type", "K8sSA"}, {"name", config_.name}};
  if (config_.claims) j["claims"] = policy::claims_json(claims_);
  return j;
}

bool K8sSaProvisioner::looks_like_service_account_token(const nlohmann::json& claims) {
  if (!claims.is_object()) return false;
  if (auto iss = claims.find("iss");
      iss != claims.end() && iss->is_string() && iss->get_ref<const std::string&>() == kLegacyServiceAccountIssuer) {
    return true;
  }
  auto k8s = claims.find("kubernetes.io");
  if (k8s == claims.end() || !k8s->is_object()) return false;
  auto ns = k8s->find("namespace");
  auto sa = k8s->find("serviceaccount");
  return ns != k8s->end() && ns->is_string() && sa != k8s->end() && sa->is_object();
}

Result<K8sSaGrant> K8sSaProvisioner::authorize(std::string_view token, TokenReviewer& reviewer,
                                               common::TimePoint now) const {
  if (token.size() > jose::kMaxTokenBytes) return unauthenticated("service account token is too large");
  // A token that is not a JWT, or has expired, costs the API server nothing.
  auto exp = token_expiry(token, now);
  if (!exp) return tl::unexpected(exp.error());

  auto identity = reviewer.review(token, config_.audiences);
  if (!identity) {
    const Error& e = identity.error();
    switch (e.code) {
      case Errc::unauthenticated:
      case Errc::invalid_argument:
        return unauthenticated("service account token rejected: " + e.message);
      case Errc::unavailable:
        return tl::unexpected(e);
      default:
        // The CA's own problem (RBAC for TokenReview, a bad response): not
        // the caller's, so not a 4xx.
        return fail(Errc::internal, "reviewing service account token: " + e.message);
    }
  }

  auto sa = parse_username(identity->username);
  if (!sa) {
    return unauthenticated("token review returned user " + policy::quote(identity->username) +
                           ", not a service account");
  }
  const bool bound = std::any_of(identity->audiences.begin(), identity->audiences.end(), [&](const std::string& a) {
    return std::find(config_.audiences.begin(), config_.audiences.end(), a) != config_.audiences.end();
  });
  if (!bound) return unauthenticated("token is not bound to an audience of provisioner " + policy::quote(config_.name));
  if (!config_.namespaces.empty() &&
      std::find(config_.namespaces.begin(), config_.namespaces.end(), sa->ns) == config_.namespaces.end()) {
    return fail(Errc::permission_denied,
                "namespace " + policy::quote(sa->ns) + " is not served by provisioner " + policy::quote(config_.name));
  }
  if (!identity->pod_name.empty() && !is_dns_subdomain(identity->pod_name)) {
    return unauthenticated("token review returned a malformed pod name");
  }

  K8sSaGrant grant;
  grant.ns = std::move(sa->ns);
  grant.service_account = std::move(sa->name);
  grant.pod_name = identity->pod_name;
  grant.expires_at = exp->value_or(now);
  grant.provisioner = {signing::ProvisionerType::k8ssa, config_.name, ""};
  auto names = expand_names(grant);
  if (!names) return tl::unexpected(names.error());
  grant.names = std::move(*names);
  if (!grant.names.dns.empty()) grant.subject = grant.names.dns.front();
  grant.names.common_name = grant.subject;
  return grant;
}

Result<policy::Names> K8sSaProvisioner::expand_names(const K8sSaGrant& grant) const {
  const NameTemplateValues values{grant.service_account, grant.ns, config_.trust_domain, grant.pod_name};
  policy::Names names;
  for (std::size_t i = 0; i < config_.name_templates.size(); ++i) {
    auto expanded = expand_name_template(config_.name_templates[i], values);
    if (!expanded) {  // create() expanded every template once already
      return fail(Errc::internal, "name template " + std::to_string(i) + ": " + expanded.error().message);
    }
    if (!*expanded) continue;  // uses {podName} and the token is not bound to a pod
    const std::string& name = **expanded;
    const policy::SanType kind = template_kinds_[i];
    if (!name_is_valid(name, kind)) {
      return fail(Errc::permission_denied, "service account " + grant.ns + "/" + grant.service_account +
                                               " does not make a valid name from template " +
                                               policy::quote(config_.name_templates[i]));
    }
    auto& list = kind == policy::SanType::dns ? names.dns : names.uris;
    if (!contains(list, name, kind == policy::SanType::dns)) list.push_back(name);
  }
  return names;
}

Status K8sSaProvisioner::check_csr(const crypto::Csr& csr, const K8sSaGrant& grant) const {
  const auto& names = grant.names;
  if (const auto& cn = csr.common_name(); !cn.empty()) {
    if (!contains(names.dns, cn, true) && !contains(names.uris, cn, false)) return name_not_allowed(cn, grant);
  }
  const auto& sans = csr.sans();
  for (const auto& dns : sans.dns) {
    if (!contains(names.dns, dns, true)) return name_not_allowed(dns, grant);
  }
  for (const auto& uri : sans.uris) {
    if (!contains(names.uris, uri, false)) return name_not_allowed(uri, grant);
  }
  // Service accounts are granted no IP or email names.
  if (!sans.ips.empty()) return name_not_allowed(sans.ips.front(), grant);
  if (!sans.emails.empty()) return name_not_allowed(sans.emails.front(), grant);
  return ok();
}

}  // namespace keystep::provisioners
