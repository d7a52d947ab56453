#pragma once
// Names are the identities a certificate would carry: its subject common name
// and its subject alternative names by type. split_sans() sorts free-form SAN
// strings (a token's "sans", a CLI's --san) the way step-ca does.

#include <string>
#include <string_view>
#include <vector>

namespace keystep::policy {

struct Names {
  std::string common_name;  // empty: none
  std::vector<std::string> dns;
  std::vector<std::string> ips;     // canonical inet_ntop text when from split_sans
  std::vector<std::string> emails;
  std::vector<std::string> uris;
};

enum class SanType { dns, ip, email, uri };

[[nodiscard]] std::string_view to_string(SanType type);

// classify_san applies step-ca's rule (x509util.SplitSANs), in order:
//   1. it parses as an IPv4 or IPv6 address (parse_ip)          -> ip
//   2. it starts with an RFC 3986 scheme (ALPHA *(ALPHA / DIGIT /
//      "+" / "-" / ".")) and ':'                                  -> uri
//      ("mailto:a@b.c" and "host:8443" are URIs, as in Go's url.Parse;
//      "a@b.c" has no scheme because '@' is not a scheme character)
//   3. it contains '@'                                            -> email
//   4. anything else                                              -> dns
// It does not validate; the name policy rejects malformed values.
[[nodiscard]] SanType classify_san(std::string_view value);

// split_sans classifies each value in order; IPs are stored in canonical
// text ("::ffff:10.0.0.1" -> "10.0.0.1", "2001:DB8::1" -> "2001:db8::1"),
// anything else verbatim. Text inet_pton refuses ("10.0.0.01") is a dns name.
[[nodiscard]] Names split_sans(const std::vector<std::string>& sans);

}  // namespace keystep::policy
