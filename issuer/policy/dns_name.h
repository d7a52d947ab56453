#pragma once
// DNS name syntax and the one-label wildcard pattern shared by the name
// policy's dns and uri rules. Names are ASCII only: an internationalised name
// must arrive in its "xn--" form (no IDNA conversion is done here).

#include <optional>
#include <string>
#include <string_view>

namespace keystep::policy {

inline constexpr std::size_t kMaxDnsNameLength = 253;

// to_lower_ascii lower-cases A-Z and leaves every other byte alone.
[[nodiscard]] std::string to_lower_ascii(std::string_view text);

// is_valid_hostname: dot-separated labels of letters, digits and '-'
// (1..63 bytes, not starting or ending with '-'), at most 253 bytes, no
// empty label and no trailing dot. The last label must not be all digits,
// so "10.0.0.01" (which inet_pton refuses as an address) is not a hostname
// either. Either case is accepted.
[[nodiscard]] bool is_valid_hostname(std::string_view name);

// DomainPattern is "example.com" (that name only) or "*.example.com" (exactly
// one more label: not the apex, not deeper). Matching is on lower-case names;
// a literal "*" label in a name is an ordinary label here, so the wildcard
// SAN "*.example.com" matches the pattern "*.example.com" and no exact one.
struct DomainPattern {
  bool is_wildcard = false;
  std::string base;  // lower case, without the "*."

  // parse returns nullopt unless text is a valid hostname, optionally after
  // a single leading "*."; the result is lower-cased.
  [[nodiscard]] static std::optional<DomainPattern> parse(std::string_view text);

  // matches expects a lower-case name.
  [[nodiscard]] bool matches(std::string_view lower_name) const;
};

}  // namespace keystep::policy
