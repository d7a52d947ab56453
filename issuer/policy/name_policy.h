#pragma once
// NamePolicy decides which names a certificate may carry: the X.509 name
// policy of step-ca (authority.policy.x509, ref section 10).
//
// create() validates and compiles every rule once; check() runs on every
// certificate without parsing a rule. A NamePolicy is immutable after
// create(), so one instance may be shared between threads.
//
// check(names), in order:
//   1. Syntax, whatever the rules: every SAN must be well formed, else
//      invalid_argument ("invalid dns name \"x\"", "invalid ip address",
//      "invalid email address", "invalid uri"). DNS names are letters,
//      digits and '-' labels, compared in lower case; a trailing dot is
//      refused. The common name is free text and never a syntax error.
//   A policy without rules (empty()) stops here: everything passes.
//   2. Deny: a name matching a deny rule of its type is permission_denied
//      (`dns name "x" not allowed`, `ip address`, `email address`, `uri`,
//      `common name`). Deny wins over allow.
//   3. Shape: a literal wildcard DNS name ("*.x") is denied unless
//      allow_wildcard_names; if there is any uri rule, a URI whose host is
//      not a DNS name (none, an IP, "*.x") is denied.
//   4. Allow: if any allow rule exists, every SAN must match an allow rule
//      of its own type; a type without allow rules allows nothing.
// The common name, if not empty, passes steps 3 and 4 when it equals a cn
// allow rule; otherwise it is classified like a SAN (classify_san) and
// checked as that type, with "common name" in the message. It is denied when
// it equals a cn deny rule or its classified form matches a deny rule.
//
// Rules (create(), each invalid one fails with invalid_argument naming its
// field, e.g. `policy.allow.ip[1]: "10.0.0.0/33" is not an IP address or CIDR`):
//   dns, uri: "example.com" (only that name) or "*.example.com" (exactly one
//             more label); uri rules match the URI's host
//   ip:       an address or a CIDR, IPv4 or IPv6; containment
//   email:    "user@domain" (that mailbox), "domain" or "@domain" (any
//             mailbox at exactly that domain)
//   cn:       any non-empty literal, compared exactly ("*" is not a wildcard)

#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"
#include "issuer/policy/dns_name.h"
#include "issuer/policy/email_address.h"
#include "issuer/policy/ip_address.h"
#include "issuer/policy/names.h"

namespace keystep::policy {

struct NameRules {
  std::vector<std::string> cn;
  std::vector<std::string> dns;
  std::vector<std::string> ip;
  std::vector<std::string> email;
  std::vector<std::string> uri;

  [[nodiscard]] bool empty() const;
};

// CompiledNameRules is NameRules as NamePolicy::create() parsed them.
struct CompiledNameRules {
  std::vector<std::string> cn;
  std::vector<DomainPattern> dns;
  std::vector<IpNetwork> ip;
  std::vector<EmailPattern> email;
  std::vector<DomainPattern> uri;

  [[nodiscard]] bool empty() const;
};

struct NamePolicyConfig {
  NameRules allow;
  NameRules deny;
  bool allow_wildcard_names = false;  // permit literal "*.x" DNS SANs
};

class NamePolicy {
 public:
  // The default policy has no rules: check() only validates syntax.
  NamePolicy() = default;

  // create compiles config; path prefixes field names in errors
  // ("policy" -> "policy.deny.dns[0]: ...").
  [[nodiscard]] static Result<NamePolicy> create(const NamePolicyConfig& config,
                                                 std::string_view path = "policy");

  [[nodiscard]] Status check(const Names& names) const;

  // empty: no allow and no deny rules.
  [[nodiscard]] bool empty() const;

 private:
  CompiledNameRules allow_;
  CompiledNameRules deny_;
  bool allow_wildcard_names_ = false;
};

}  // namespace keystep::policy
