#include "issuer/policy/uri_name.h"

#include "issuer/policy/dns_name.h"
#include "issuer/policy/ip_address.h"

namespace keystep::policy {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_scheme_char(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

bool is_printable_ascii(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// has_valid_escapes: every '%' starts a "%XX" hex escape (RFC 3986 2.1).
bool has_valid_escapes(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
    i += 2;
  }
  return true;
}

bool is_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::size_t uri_scheme_length(std::string_view text) {
  if (text.empty() || !is_alpha(text.front())) return 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == ':') return i;
    if (!is_scheme_char(text[i])) return 0;
  }
  return 0;
}

std::optional<UriName> UriName::parse(std::string_view text) {
  if (text.size() > kMaxUriLength || !is_printable_ascii(text) || !has_valid_escapes(text)) {
    return std::nullopt;
  }
  const std::size_t scheme = uri_scheme_length(text);
  if (scheme == 0) return std::nullopt;
  std::string_view rest = text.substr(scheme + 1);
  UriName name;
  if (!rest.starts_with("//")) return name;  // no authority: "urn:...", "mailto:..."
  rest.remove_prefix(2);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo
  }
  std::string_view host;
  std::string_view after_host;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view literal = authority.substr(1, close - 1);
    auto ip = parse_ip(literal);
    if (!ip || literal.find(':') == std::string_view::npos) return std::nullopt;
    name.host_kind = HostKind::ip;
    name.host = to_string(*ip);
    after_host = authority.substr(close + 1);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!after_host.empty() && (after_host.front() != ':' || !is_digits(after_host.substr(1)))) {
    return std::nullopt;
  }
  if (name.host_kind == HostKind::ip) return name;
  if (host.empty()) return name;
  if (auto ip = parse_ip(host)) {
    name.host_kind = HostKind::ip;
    name.host = to_string(*ip);
  } else if (is_valid_hostname(host)) {
    name.host_kind = HostKind::dns;
    name.host = to_lower_ascii(host);
  } else {
    name.host_kind = HostKind::other;
    name.host = std::string(host);
  }
  return name;
}

}  // namespace keystep::policy
