#pragma once
// Url is an absolute http(s) URL split for a client connection, and the
// percent-decoding shared by the server's path and query handling.

#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::http {

struct Url {
  std::string scheme;       // "http" or "https", lowercase
  std::string host;         // DNS name (lowercase), IPv4, or IPv6 without brackets
  unsigned short port = 0;  // as written, else 443 for https and 80 for http
  std::string target;       // path and query, at least "/"; the fragment is dropped
  bool is_ip = false;       // host is an IP literal (verify an IP SAN, send no SNI)

  [[nodiscard]] bool is_https() const { return scheme == "https"; }
  // authority is "host:port", IPv6 in brackets: "[::1]:9000". Used in errors.
  [[nodiscard]] std::string authority() const;
  // host_header omits the scheme's default port, as Go's client does.
  [[nodiscard]] std::string host_header() const;
};

// parse_url accepts http://host[:port][/path][?query][#fragment] with a DNS
// name, an IPv4 address or a bracketed IPv6 address. User info, other
// schemes and bad ports are invalid_argument.
[[nodiscard]] Result<Url> parse_url(std::string_view text);

// percent_decode appends the decoded text to out and returns false on a
// malformed escape ("%4", "%zz"); plus_is_space decodes '+' as a space
// (query strings). out may hold garbage after a failure.
[[nodiscard]] bool percent_decode(std::string_view text, std::string& out, bool plus_is_space);

}  // namespace keystep::http
