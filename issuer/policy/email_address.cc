#include "issuer/policy/email_address.h"

#include "issuer/policy/dns_name.h"

namespace keystep::policy {
namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 section 4.5.3.1.1

bool is_valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > kMaxLocalPart) return false;
  for (char ch : local) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

std::optional<EmailAddress> EmailAddress::parse(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (!is_valid_local_part(local) || !is_valid_hostname(domain)) return std::nullopt;
  return EmailAddress{std::string(local), to_lower_ascii(domain)};
}

std::optional<EmailPattern> EmailPattern::parse(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos) {
    if (!is_valid_hostname(text)) return std::nullopt;
    return EmailPattern{{}, to_lower_ascii(text)};
  }
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (!is_valid_hostname(domain)) return std::nullopt;
  if (local.empty()) return EmailPattern{{}, to_lower_ascii(domain)};
  // "*@domain" reads like a wildcard but would match only the mailbox "*".
  if (!is_valid_local_part(local) || local.find('*') != std::string_view::npos) {
    return std::nullopt;
  }
  return EmailPattern{std::string(local), to_lower_ascii(domain)};
}

bool EmailPattern::matches(const EmailAddress& address) const {
  return address.domain == domain && (local.empty() || address.local == local);
}

}  // namespace keystep::policy
