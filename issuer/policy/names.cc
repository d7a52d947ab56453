#include "issuer/policy/names.h"

#include "issuer/policy/ip_address.h"
#include "issuer/policy/uri_name.h"

namespace keystep::policy {

std::string_view to_string(SanType type) {
  switch (type) {
    case SanType::dns: return "dns";
    case SanType::ip: return "ip";
    case SanType::email: return "email";
    case SanType::uri: return "uri";
  }
  return "unknown";
}

SanType classify_san(std::string_view value) {
  if (parse_ip(value)) return SanType::ip;
  if (uri_scheme_length(value) > 0) return SanType::uri;
  if (value.find('@') != std::string_view::npos) return SanType::email;
  return SanType::dns;
}

Names split_sans(const std::vector<std::string>& sans) {
  Names names;
  for (const auto& san : sans) {
    if (auto ip = parse_ip(san)) {
      names.ips.push_back(to_string(*ip));
      continue;
    }
    switch (classify_san(san)) {
      case SanType::uri: names.uris.push_back(san); break;
      case SanType::email: names.emails.push_back(san); break;
      case SanType::ip:  // handled above
      case SanType::dns: names.dns.push_back(san); break;
    }
  }
  return names;
}

}  // namespace keystep::policy
