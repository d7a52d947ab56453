#pragma once
// UriName is a URI SAN reduced to what the name policy matches: its host.
// Following RFC 5280 4.2.1.10, a URI can only satisfy a host rule if its
// authority names a host by DNS name; "spiffe://trust.domain/ns/x" has the
// host "trust.domain", "urn:uuid:..." and "https://10.0.0.1/" have none.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace keystep::policy {

inline constexpr std::size_t kMaxUriLength = 4096;

// uri_scheme_length is the length of a leading RFC 3986 scheme
// (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")) followed by ':', or 0 if the
// text does not start with one.
[[nodiscard]] std::size_t uri_scheme_length(std::string_view text);

struct UriName {
  enum class HostKind {
    none,   // no authority, or an empty host
    dns,    // a valid hostname; host is lower-cased
    ip,     // an IPv4 address or a bracketed IPv6 literal
    other,  // anything else ("*.x", "under_score", percent-encoded)
  };
  HostKind host_kind = HostKind::none;
  std::string host;

  // parse returns nullopt unless text has a scheme, is at most kMaxUriLength
  // bytes of printable ASCII without spaces, every '%' starts a "%XX"
  // escape, and any authority is well formed: a bracketed literal must be an
  // IPv6 address and a port digits.
  [[nodiscard]] static std::optional<UriName> parse(std::string_view text);
};

}  // namespace keystep::policy
