#include "issuer/config/issuer_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "issuer/config/acme_spec.h"
#include "issuer/config/yaml_fields.h"

namespace keystep::config {
namespace {

using namespace fields;
using Path = std::string;

Result<policy::Claims> parse_claims(const YAML::Node& node, const Path& path, policy::Claims claims) {
  if (auto s = only_keys(node, path, {"minDuration", "maxDuration", "defaultDuration", "disableRenewal",
                                      "allowRenewalAfterExpiry"});
      !s) {
    return tl::unexpected(s.error());
  }
  struct D {
    const char* key;
    std::chrono::nanoseconds* field;
  };
  for (auto [key, field] : {D{"minDuration", &claims.min_duration}, D{"maxDuration", &claims.max_duration},
                            D{"defaultDuration", &claims.default_duration}}) {
    if (!node[key]) continue;
    auto d = duration(node[key], child(path, key));
    if (!d) return tl::unexpected(d.error());
    *field = *d;
  }
  struct B {
    const char* key;
    bool* field;
  };
  for (auto [key, field] : {B{"disableRenewal", &claims.disable_renewal},
                            B{"allowRenewalAfterExpiry", &claims.allow_renewal_after_expiry}}) {
    if (!node[key]) continue;
    auto b = boolean(node[key], child(path, key));
    if (!b) return tl::unexpected(b.error());
    *field = *b;
  }
  if (auto s = policy::validate_claims(claims, path); !s) return tl::unexpected(s.error());
  return claims;
}

Result<policy::NameRules> parse_rules(const YAML::Node& node, const Path& path) {
  policy::NameRules rules;
  if (!node || node.IsNull()) return rules;
  if (auto s = only_keys(node, path, {"cn", "dns", "ip", "email", "uri"}); !s) return tl::unexpected(s.error());
  struct R {
    const char* key;
    std::vector<std::string>* field;
  };
  for (auto [key, field] : {R{"cn", &rules.cn}, R{"dns", &rules.dns}, R{"ip", &rules.ip}, R{"email", &rules.email},
                            R{"uri", &rules.uri}}) {
    auto list = string_list(node[key], child(path, key));
    if (!list) return tl::unexpected(list.error());
    *field = std::move(*list);
  }
  return rules;
}

// parse_policy reads policy: into spec.policy and spec.allow_ca, and
// compiles the rules once so a bad rule is reported here, with its path.
Status parse_policy(const YAML::Node& node, const Path& path, IssuerSpec& spec) {
  if (auto s = only_keys(node, path, {"allow", "deny", "allowWildcardNames", "allowCA"}); !s) return s;
  auto allow = parse_rules(node["allow"], child(path, "allow"));
  if (!allow) return tl::unexpected(allow.error());
  auto deny = parse_rules(node["deny"], child(path, "deny"));
  if (!deny) return tl::unexpected(deny.error());
  spec.policy.allow = std::move(*allow);
  spec.policy.deny = std::move(*deny);
  for (auto [key, field] : {std::pair{"allowWildcardNames", &spec.policy.allow_wildcard_names},
                            std::pair{"allowCA", &spec.allow_ca}}) {
    if (!node[key]) continue;
    auto b = boolean(node[key], child(path, key));
    if (!b) return tl::unexpected(b.error());
    *field = *b;
  }
  if (auto compiled = policy::NamePolicy::create(spec.policy, path); !compiled) {
    return tl::unexpected(compiled.error());
  }
  return ok();
}

enum class ProvisionerKind { jwk, k8ssa, acme };

Result<ProvisionerKind> parse_type(const YAML::Node& node, const Path& path) {
  if (!node) return ProvisionerKind::jwk;
  auto type = scalar(node, path);
  if (!type) return tl::unexpected(type.error());
  std::string lower = *type;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "jwk") return ProvisionerKind::jwk;
  if (lower == "k8ssa") return ProvisionerKind::k8ssa;
  if (lower == "acme") return ProvisionerKind::acme;
  return bad(path, "\"" + *type + "\" is not supported (use JWK, K8sSA or ACME)");
}

// check_fields refuses a field that exists for another provisioner type.
Status check_fields(const YAML::Node& node, const Path& path, const char* type_name,
                    std::initializer_list<const char*> allowed) {
  if (auto s = only_keys(node, path, {"name", "type", "key", "encryptedKey", "claims", "audiences", "names",
                                      "trustDomain", "namespaces", "tokenVerification", "challenges",
                                      "termsOfService", "website", "caaIdentities", "forceCN", "orderLifetime",
                                      "externalAccountBinding", "validation"});
      !s) {
    return s;
  }
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      return bad(child(path, key.c_str()), std::string("is not a field of a ") + type_name + " provisioner");
    }
  }
  return ok();
}

Result<std::string> non_empty(const YAML::Node& node, const Path& path) {
  auto value = scalar(node, path);
  if (!value) return value;
  if (value->empty()) return bad(path, "must not be empty");
  return value;
}

// check_name_template accepts text with the placeholders of k8ssa_config.h.
Status check_name_template(const std::string& text, const Path& path) {
  static constexpr std::array<std::string_view, 4> kPlaceholders = {"serviceAccount", "namespace", "trustDomain",
                                                                    "podName"};
  if (text.empty()) return bad(path, "must not be empty");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') return bad(path, "\"" + text + "\" has a '}' without '{'");
    if (text[i] != '{') continue;
    auto close = text.find('}', i);
    if (close == std::string::npos) return bad(path, "\"" + text + "\" has a '{' without '}'");
    std::string_view name(text.data() + i + 1, close - i - 1);
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
      return bad(path, "\"" + text + "\" uses the unknown placeholder {" + std::string(name) +
                           "} (use {serviceAccount}, {namespace}, {trustDomain} or {podName})");
    }
    i = close;
  }
  return ok();
}

// is_dns_label: a Kubernetes namespace name (RFC 1123 label).
bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

Result<provisioners::JwkProvisionerConfig> parse_jwk(const YAML::Node& node, const Path& path, std::string name,
                                                     const policy::Claims& issuer_claims) {
  if (auto s = check_fields(node, path, "JWK", {"name", "type", "key", "encryptedKey", "claims"}); !s) {
    return tl::unexpected(s.error());
  }
  provisioners::JwkProvisionerConfig p;
  p.name = std::move(name);
  if (!node["key"] || !node["key"].IsMap()) return bad(child(path, "key"), "a public JWK is required");
  p.key = to_json(node["key"]);
  if (node["encryptedKey"]) {
    auto ek = scalar(node["encryptedKey"], child(path, "encryptedKey"));
    if (!ek) return tl::unexpected(ek.error());
    p.encrypted_key = *ek;
  }
  if (node["claims"]) {
    auto claims = parse_claims(node["claims"], child(path, "claims"), issuer_claims);
    if (!claims) return tl::unexpected(claims.error());
    p.claims = *claims;
  }
  return p;
}

Result<provisioners::K8sSaProvisionerConfig> parse_k8ssa(const YAML::Node& node, const Path& path, std::string name,
                                                         const policy::Claims& issuer_claims) {
  if (auto s = check_fields(node, path, "K8sSA",
                            {"name", "type", "audiences", "names", "trustDomain", "namespaces", "claims",
                             "tokenVerification"});
      !s) {
    return tl::unexpected(s.error());
  }
  provisioners::K8sSaProvisionerConfig p;
  p.name = std::move(name);
  p.audiences = {p.name};
  if (node["audiences"]) {
    auto list = string_list(node["audiences"], child(path, "audiences"));
    if (!list) return tl::unexpected(list.error());
    if (list->empty()) return bad(child(path, "audiences"), "must name at least one audience (default: the name)");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].empty()) return bad(index(child(path, "audiences"), i), "must not be empty");
    }
    p.audiences = std::move(*list);
  }
  if (node["names"]) {
    auto list = string_list(node["names"], child(path, "names"));
    if (!list) return tl::unexpected(list.error());
    if (list->empty()) return bad(child(path, "names"), "must hold at least one name template");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto s = check_name_template((*list)[i], index(child(path, "names"), i)); !s) return tl::unexpected(s.error());
    }
    p.name_templates = std::move(*list);
  }
  if (node["trustDomain"]) {
    auto td = non_empty(node["trustDomain"], child(path, "trustDomain"));
    if (!td) return tl::unexpected(td.error());
    p.trust_domain = *td;
  }
  auto namespaces = string_list(node["namespaces"], child(path, "namespaces"));
  if (!namespaces) return tl::unexpected(namespaces.error());
  for (std::size_t i = 0; i < namespaces->size(); ++i) {
    if (!is_dns_label((*namespaces)[i])) {
      return bad(index(child(path, "namespaces"), i), "\"" + (*namespaces)[i] + "\" is not a namespace name");
    }
  }
  p.namespaces = std::move(*namespaces);
  if (node["tokenVerification"]) {
    auto v = non_empty(node["tokenVerification"], child(path, "tokenVerification"));
    if (!v) return tl::unexpected(v.error());
    if (*v == "TokenReview") {
      p.verification = provisioners::K8sSaTokenVerification::token_review;
    } else if (*v == "JWKS") {
      p.verification = provisioners::K8sSaTokenVerification::jwks;
    } else {
      return bad(child(path, "tokenVerification"), "\"" + *v + "\" is not TokenReview or JWKS");
    }
  }
  if (node["claims"]) {
    auto claims = parse_claims(node["claims"], child(path, "claims"), issuer_claims);
    if (!claims) return tl::unexpected(claims.error());
    p.claims = *claims;
  }
  return p;
}

Status parse_provisioners(const YAML::Node& list, const Path& path, IssuerSpec& spec) {
  if (!list || list.IsNull()) return ok();
  if (!list.IsSequence()) return bad(path, "must be a list");
  std::vector<std::string> names;  // by index, for the duplicate check
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Path item = index(path, i);
    const YAML::Node node = list[i];
    if (!node.IsMap()) return bad(item, "must be a mapping");
    if (!node["name"]) return bad(child(item, "name"), "is required");
    auto name = non_empty(node["name"], child(item, "name"));
    if (!name) return tl::unexpected(name.error());
    if (auto it = std::find(names.begin(), names.end(), *name); it != names.end()) {
      return bad(child(item, "name"), "\"" + *name + "\" is already used by " +
                                          index(path, static_cast<std::size_t>(it - names.begin())));
    }
    names.push_back(*name);
    auto kind = parse_type(node["type"], child(item, "type"));
    if (!kind) return tl::unexpected(kind.error());
    switch (*kind) {
      case ProvisionerKind::jwk: {
        auto p = parse_jwk(node, item, *name, spec.claims);
        if (!p) return tl::unexpected(p.error());
        spec.jwk.push_back(std::move(*p));
        break;
      }
      case ProvisionerKind::k8ssa: {
        auto p = parse_k8ssa(node, item, *name, spec.claims);
        if (!p) return tl::unexpected(p.error());
        spec.k8ssa.push_back(std::move(*p));
        break;
      }
      case ProvisionerKind::acme: {
        if (auto s = check_fields(node, item, "ACME",
                                  {"name", "type", "challenges", "termsOfService", "website", "caaIdentities",
                                   "forceCN", "orderLifetime", "externalAccountBinding", "validation"});
            !s) {
          return s;
        }
        auto p = parse_acme_provisioner(node, item, *name);
        if (!p) return tl::unexpected(p.error());
        spec.acme.push_back(std::move(*p));
        break;
      }
    }
  }
  return ok();
}

Result<IssuerSpec> parse_spec(const YAML::Node& node, const Path& path) {
  if (!node.IsMap()) return bad(path.empty() ? "config" : path, "must be a mapping");
  IssuerSpec spec;
  if (node["claims"] && !node["claims"].IsNull()) {
    auto claims = parse_claims(node["claims"], child(path, "claims"), spec.claims);
    if (!claims) return tl::unexpected(claims.error());
    spec.claims = *claims;
  }
  if (node["policy"] && !node["policy"].IsNull()) {
    if (auto s = parse_policy(node["policy"], child(path, "policy"), spec); !s) return tl::unexpected(s.error());
  }
  if (auto s = parse_provisioners(node["provisioners"], child(path, "provisioners"), spec); !s) {
    return tl::unexpected(s.error());
  }
  return spec;
}

Result<SecretRef> parse_ca(const YAML::Node& spec, bool cluster_scoped, const std::string& object_namespace) {
  const YAML::Node ca = spec["ca"];
  if (!ca || ca.IsNull()) return bad("spec.ca", "is required (secretRef)");
  if (auto s = only_keys(ca, "spec.ca", {"secretRef"}); !s) return tl::unexpected(s.error());
  const YAML::Node ref = ca["secretRef"];
  if (!ref || ref.IsNull()) return bad("spec.ca.secretRef", "is required (name, namespace)");
  if (auto s = only_keys(ref, "spec.ca.secretRef", {"name", "namespace"}); !s) return tl::unexpected(s.error());
  if (!ref["name"]) return bad("spec.ca.secretRef.name", "is required");
  auto name = non_empty(ref["name"], "spec.ca.secretRef.name");
  if (!name) return tl::unexpected(name.error());
  SecretRef out{*name, ""};
  if (ref["namespace"]) {
    auto ns = non_empty(ref["namespace"], "spec.ca.secretRef.namespace");
    if (!ns) return tl::unexpected(ns.error());
    out.ns = *ns;
  }
  if (cluster_scoped) {
    if (out.ns.empty()) return bad("spec.ca.secretRef.namespace", "is required for a StepClusterIssuer");
  } else if (object_namespace.empty()) {
    return bad("metadata.namespace", "a StepIssuer must have a namespace");
  } else if (out.ns.empty()) {
    out.ns = object_namespace;
  } else if (out.ns != object_namespace) {
    return bad("spec.ca.secretRef.namespace", "a StepIssuer reads Secrets of its own namespace \"" + object_namespace +
                                                  "\" only, not \"" + out.ns + "\"");
  }
  return out;
}

}  // namespace

Result<IssuerSpec> parse_issuer_spec_yaml(const YAML::Node& node, const std::string& path) {
  try {
    return parse_spec(node, path);
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument, (path.empty() ? std::string("config") : path) + ": " + e.what());
  }
}

Result<IssuerResourceSpec> parse_issuer_resource_spec(const nlohmann::json& spec, bool cluster_scoped,
                                                      const std::string& object_namespace) {
  if (!spec.is_object()) return bad("spec", "must be an object");
  try {
    const YAML::Node node = to_yaml(spec);
    if (auto s = only_keys(node, "spec", {"ca", "claims", "policy", "provisioners"}); !s) {
      return tl::unexpected(s.error());
    }
    auto ca = parse_ca(node, cluster_scoped, object_namespace);
    if (!ca) return tl::unexpected(ca.error());
    auto parsed = parse_spec(node, "spec");
    if (!parsed) return tl::unexpected(parsed.error());
    // An issuer's spec is readable by everyone who may list issuers: no HMAC keys in it.
    for (std::size_t i = 0; i < parsed->acme.size(); ++i) {
      if (parsed->acme[i].require_eab) {
        return bad("spec.provisioners", "ACME provisioner \"" + parsed->acme[i].name +
                                            "\": externalAccountBinding keys belong in keystep.yaml, not in an "
                                            "issuer spec that every reader of issuers can see");
      }
    }
    return IssuerResourceSpec{std::move(*ca), std::move(*parsed)};
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument, std::string("spec: ") + e.what());
  }
}

}  // namespace keystep::config
