#pragma once
// Validator checks one ACME challenge against the network (RFC 8555 §8.3,
// §8.4; RFC 8737): nullopt when the target proves control of the
// identifier, else the Problem to record in the challenge's "error"
// (connection, dns, incorrectResponse, tls, unauthorized, malformed), with
// a detail that says what was asked and what came back. One attempt, no
// retries (the caller retries with backoff). It is an interface so that the
// protocol's unit tests can run without a network; NetworkValidator is the
// real one. Implementations are thread-safe.

#include <optional>
#include <string>

#include "issuer/acme/acme_config.h"
#include "issuer/acme/problem.h"

namespace keystep::acme {

struct ChallengeTarget {
  std::string type;               // kHttp01, kDns01, kTlsAlpn01
  std::string identifier_type;    // "dns" or "ip"
  std::string identifier;         // "a.example" (no "*." for a wildcard), "10.0.0.1", "::1"
  std::string token;
  std::string key_authorization;  // token "." thumbprint
};

class Validator {
 public:
  virtual ~Validator() = default;
  [[nodiscard]] virtual std::optional<Problem> validate(const ValidationOptions& options,
                                                        const ChallengeTarget& target) const = 0;
};

// NetworkValidator validates over the network:
// - http-01: GET http://<identifier>:<http01_port>/.well-known/acme-challenge/<token>
//   (IPv6 in brackets), following up to 10 redirects to http or https
//   (https not verified, as RFC 8555 §8.3 allows); the body, with trailing
//   whitespace removed, must equal the key authorization. Body read up to 64 KiB.
//   Problems: unreachable, timed out, too many redirects or a redirect to
//   another scheme: connection; TLS failure after a redirect to https: tls;
//   not 200, a redirect without Location, a body over 64 KiB or a wrong one:
//   incorrectResponse. (The 64 KiB is checked after http::request, which
//   reads up to its own 64 MiB cap.)
// - dns-01: TXT records of _acme-challenge.<identifier> from dns_resolver
//   (or the system resolver); one must equal dns01_txt_value(key authorization).
//   Only dns identifiers. glibc's resolver on a private res_state, EDNS0 on,
//   TCP when the UDP answer is truncated; dns_resolver may be IPv4, [IPv6]
//   or a name (getaddrinfo, first address). Problems: no such name, no TXT,
//   SERVFAIL, timeout: dns; TXT records but none matching:
//   incorrectResponse; an unparsable dns_resolver: serverInternal.
// - tls-alpn-01: TLS to <identifier>:<tls_alpn01_port> offering only ALPN
//   "acme-tls/1" with SNI <identifier> (or the reverse-DNS name for an IP, RFC 8738);
//   the server must select acme-tls/1 and present a certificate whose only
//   SAN is the identifier and that has the critical acmeIdentifier extension
//   (1.3.6.1.5.5.7.1.31) holding SHA-256 of the key authorization.
//   Problems: unreachable, reset or timed out: connection; handshake failure
//   or no acme-tls/1: tls; SANs other than exactly the identifier:
//   unauthorized; acmeIdentifier missing, not critical or not matching:
//   incorrectResponse.
// An unknown challenge or identifier type, or an ip identifier that is not
// an IP literal, is malformed. options.timeout bounds each attempt (all
// redirects together for http-01), except getaddrinfo (tls-alpn-01's name,
// a dns_resolver name) and glibc's TCP retry of a truncated DNS answer,
// which has no timeout of its own. Names resolve through the system
// resolver (so /etc/hosts applies). Nothing is logged.
class NetworkValidator final : public Validator {
 public:
  [[nodiscard]] std::optional<Problem> validate(const ValidationOptions& options,
                                                const ChallengeTarget& target) const override;
};

}  // namespace keystep::acme
