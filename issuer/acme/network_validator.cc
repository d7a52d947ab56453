#include <arpa/inet.h>

#include <cstdio>

#include "issuer/acme/challenge_checks.h"
#include "issuer/acme/validator.h"

namespace keystep::acme {
namespace detail {

std::string host_port(std::string_view host, unsigned short port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port);
}

std::string quote(std::string_view text, std::size_t max_chars) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_chars) out += "…";
  return out + "\"";
}

std::string sentence_case(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z')
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

}  // namespace detail

namespace {

bool is_ip_literal(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

}  // namespace

std::optional<Problem> NetworkValidator::validate(const ValidationOptions& options,
                                                  const ChallengeTarget& target) const {
  if (target.identifier.empty()) return malformed("the identifier is empty");
  if (target.identifier_type == "ip") {
    if (!is_ip_literal(target.identifier)) {
      return malformed("ip identifier " + detail::quote(target.identifier) +
                       " is not an IP address");
    }
  } else if (target.identifier_type != "dns") {
    return malformed("unsupported identifier type " + detail::quote(target.identifier_type));
  }
  if (target.type == kHttp01) return detail::check_http01(options, target);
  if (target.type == kDns01) return detail::check_dns01(options, target);
  if (target.type == kTlsAlpn01) return detail::check_tls_alpn01(options, target);
  return malformed("unknown challenge type " + detail::quote(target.type));
}

}  // namespace keystep::acme
