#include "issuer/policy/name_policy.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "issuer/policy/quote.h"
#include "issuer/policy/uri_name.h"

namespace keystep::policy {
namespace {

constexpr std::string_view kDomainRuleForms =
    R"(is not a DNS name ("example.com") or one-label wildcard ("*.example.com"))";

// Candidate is one name of a certificate, parsed once per check().
struct Candidate {
  SanType type = SanType::dns;
  std::string_view text;  // as given, for messages
  bool is_common_name = false;
  bool is_valid = true;   // false only for a common name of bad syntax
  std::string dns;        // lower case, "*." kept
  bool is_wildcard = false;
  IpAddress ip;
  EmailAddress email;
  UriName uri;
};

std::string_view san_label(SanType type) {
  switch (type) {
    case SanType::dns: return "dns name";
    case SanType::ip: return "ip address";
    case SanType::email: return "email address";
    case SanType::uri: return "uri";
  }
  return "name";
}

std::string rule_path(std::string_view base, std::string_view field, std::size_t index) {
  return std::string(base) + "." + std::string(field) + "[" + std::to_string(index) + "]";
}

tl::unexpected<Error> bad_rule(std::string_view base, std::string_view field, std::size_t index,
                               const std::string& rule, std::string_view problem) {
  return fail(Errc::invalid_argument,
              rule_path(base, field, index) + ": " + quote(rule) + " " + std::string(problem));
}

Result<CompiledNameRules> compile_rules(const NameRules& in, std::string_view base) {
  CompiledNameRules out;
  for (std::size_t i = 0; i < in.cn.size(); ++i) {
    if (in.cn[i].empty()) {
      return fail(Errc::invalid_argument, rule_path(base, "cn", i) + ": must not be empty");
    }
    out.cn.push_back(in.cn[i]);
  }
  for (std::size_t i = 0; i < in.dns.size(); ++i) {
    if (parse_ip(in.dns[i])) {
      return bad_rule(base, "dns", i, in.dns[i], "is an IP address; use an ip rule");
    }
    auto pattern = DomainPattern::parse(in.dns[i]);
    if (!pattern) return bad_rule(base, "dns", i, in.dns[i], kDomainRuleForms);
    out.dns.push_back(std::move(*pattern));
  }
  for (std::size_t i = 0; i < in.ip.size(); ++i) {
    auto network = parse_ip_network(in.ip[i]);
    if (!network) return bad_rule(base, "ip", i, in.ip[i], "is not an IP address or CIDR");
    out.ip.push_back(*network);
  }
  for (std::size_t i = 0; i < in.email.size(); ++i) {
    auto pattern = EmailPattern::parse(in.email[i]);
    if (!pattern) {
      return bad_rule(base, "email", i, in.email[i], "is not an email address, domain or @domain");
    }
    out.email.push_back(std::move(*pattern));
  }
  for (std::size_t i = 0; i < in.uri.size(); ++i) {
    auto pattern = DomainPattern::parse(in.uri[i]);
    if (!pattern || parse_ip(in.uri[i])) {
      return bad_rule(base, "uri", i, in.uri[i],
                      std::string(kDomainRuleForms) + "; uri rules match the host only");
    }
    out.uri.push_back(std::move(*pattern));
  }
  return out;
}

bool is_valid_dns_san(std::string_view name) {
  if (name.starts_with("*.")) {
    return name.size() <= kMaxDnsNameLength && is_valid_hostname(name.substr(2));
  }
  return is_valid_hostname(name);
}

// parse_candidate returns nullopt if text is not a well-formed name of type.
std::optional<Candidate> parse_candidate(SanType type, std::string_view text) {
  Candidate c;
  c.type = type;
  c.text = text;
  switch (type) {
    case SanType::dns:
      if (!is_valid_dns_san(text)) return std::nullopt;
      c.dns = to_lower_ascii(text);
      c.is_wildcard = text.starts_with("*.");
      return c;
    case SanType::ip: {
      auto ip = parse_ip(text);
      if (!ip) return std::nullopt;
      c.ip = *ip;
      return c;
    }
    case SanType::email: {
      auto email = EmailAddress::parse(text);
      if (!email) return std::nullopt;
      c.email = std::move(*email);
      return c;
    }
    case SanType::uri: {
      auto uri = UriName::parse(text);
      if (!uri) return std::nullopt;
      c.uri = std::move(*uri);
      return c;
    }
  }
  return std::nullopt;
}

bool matches(const CompiledNameRules& rules, const Candidate& c) {
  if (!c.is_valid) return false;
  switch (c.type) {
    case SanType::dns:
      return std::any_of(rules.dns.begin(), rules.dns.end(),
                         [&](const DomainPattern& p) { return p.matches(c.dns); });
    case SanType::ip:
      return std::any_of(rules.ip.begin(), rules.ip.end(),
                         [&](const IpNetwork& n) { return n.contains(c.ip); });
    case SanType::email:
      return std::any_of(rules.email.begin(), rules.email.end(),
                         [&](const EmailPattern& p) { return p.matches(c.email); });
    case SanType::uri:
      return c.uri.host_kind == UriName::HostKind::dns &&
             std::any_of(rules.uri.begin(), rules.uri.end(),
                         [&](const DomainPattern& p) { return p.matches(c.uri.host); });
  }
  return false;
}

tl::unexpected<Error> denied(const Candidate& c, std::string_view reason = {}) {
  std::string message = c.is_common_name ? "common name" : std::string(san_label(c.type));
  message += " " + quote(c.text) + " not allowed";
  if (!reason.empty()) message += ": " + std::string(reason);
  return fail(Errc::permission_denied, std::move(message));
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool NameRules::empty() const {
  return cn.empty() && dns.empty() && ip.empty() && email.empty() && uri.empty();
}

bool CompiledNameRules::empty() const {
  return cn.empty() && dns.empty() && ip.empty() && email.empty() && uri.empty();
}

Result<NamePolicy> NamePolicy::create(const NamePolicyConfig& config, std::string_view path) {
  auto allow = compile_rules(config.allow, std::string(path) + ".allow");
  if (!allow) return tl::unexpected(std::move(allow.error()));
  auto deny = compile_rules(config.deny, std::string(path) + ".deny");
  if (!deny) return tl::unexpected(std::move(deny.error()));
  NamePolicy policy;
  policy.allow_ = std::move(*allow);
  policy.deny_ = std::move(*deny);
  policy.allow_wildcard_names_ = config.allow_wildcard_names;
  return policy;
}

bool NamePolicy::empty() const { return allow_.empty() && deny_.empty(); }

Status NamePolicy::check(const Names& names) const {
  std::vector<Candidate> candidates;
  candidates.reserve(names.dns.size() + names.ips.size() + names.emails.size() +
                     names.uris.size() + 1);
  const std::pair<SanType, const std::vector<std::string>*> sans[] = {
      {SanType::dns, &names.dns},
      {SanType::ip, &names.ips},
      {SanType::email, &names.emails},
      {SanType::uri, &names.uris},
  };
  for (const auto& [type, values] : sans) {
    for (const auto& value : *values) {
      auto c = parse_candidate(type, value);
      if (!c) {
        return fail(Errc::invalid_argument,
                    "invalid " + std::string(san_label(type)) + " " + quote(value));
      }
      candidates.push_back(std::move(*c));
    }
  }
  if (empty()) return ok();

  bool is_cn_allowed = false;
  if (const std::string& cn = names.common_name; !cn.empty()) {
    const SanType type = classify_san(cn);
    auto parsed = parse_candidate(type, cn);
    Candidate c = parsed ? std::move(*parsed) : Candidate{};
    c.type = type;
    c.text = cn;
    c.is_common_name = true;
    c.is_valid = parsed.has_value();
    if (contains(deny_.cn, cn)) return denied(c);
    is_cn_allowed = contains(allow_.cn, cn);
    candidates.push_back(std::move(c));
  }

  for (const auto& c : candidates) {
    if (matches(deny_, c)) return denied(c);
  }
  const bool has_uri_rules = !allow_.uri.empty() || !deny_.uri.empty();
  for (const auto& c : candidates) {
    if (!c.is_valid || (c.is_common_name && is_cn_allowed)) continue;
    if (c.type == SanType::dns && c.is_wildcard && !allow_wildcard_names_) {
      return denied(c, "wildcard names are not allowed");
    }
    if (c.type == SanType::uri && has_uri_rules && c.uri.host_kind != UriName::HostKind::dns) {
      return denied(c, "uri host must be a DNS name");
    }
  }
  if (allow_.empty()) return ok();
  for (const auto& c : candidates) {
    if (c.is_common_name && is_cn_allowed) continue;
    if (!matches(allow_, c)) return denied(c);
  }
  return ok();
}

}  // namespace keystep::policy
