#pragma once
// EmailAddress (an email SAN) and EmailPattern (a name policy email rule).
// The local part is compared exactly, the domain case-insensitively.

#include <optional>
#include <string>
#include <string_view>

namespace keystep::policy {

struct EmailAddress {
  std::string local;   // as written
  std::string domain;  // lower case

  // parse splits at the last '@'. The local part must be 1..64 printable
  // ASCII bytes without spaces; the domain a valid hostname (no IP literal).
  [[nodiscard]] static std::optional<EmailAddress> parse(std::string_view text);
};

struct EmailPattern {
  std::string local;   // empty: any mailbox at domain
  std::string domain;  // lower case

  // parse accepts "user@domain" (that mailbox), "domain" or "@domain" (any
  // mailbox at exactly that domain, not its subdomains). "*", a '*' in the
  // local part, wildcard domains and leading dots are refused.
  [[nodiscard]] static std::optional<EmailPattern> parse(std::string_view text);

  [[nodiscard]] bool matches(const EmailAddress& address) const;
};

}  // namespace keystep::policy
