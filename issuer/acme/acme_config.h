#pragma once
// AcmeProvisionerConfig is one ACME provisioner (type ACME) as keystep.yaml
// and StepClusterIssuer.spec.provisioners give it: which challenges it
// offers, whether accounts need External Account Binding, and where its
// validators look (ports and resolver are configurable so that tests and
// private networks can validate on other ports than 80 and 443).

#include <chrono>
#include <string>
#include <vector>

namespace keystep::acme {

inline constexpr char kHttp01[] = "http-01";
inline constexpr char kDns01[] = "dns-01";
inline constexpr char kTlsAlpn01[] = "tls-alpn-01";

// EabKey is an External Account Binding key (RFC 8555 §7.3.4): the key id a
// CA operator hands out with its HMAC key; each binds one account.
struct EabKey {
  std::string key_id;
  std::string hmac_key;  // raw key bytes (keystep.yaml gives them base64url)
};

struct ValidationOptions {
  unsigned short http01_port = 80;       // http-01 fetches http://<name>:<port>/.well-known/acme-challenge/<token>
  unsigned short tls_alpn01_port = 443;  // tls-alpn-01 connects to <name>:<port>
  // dns_resolver is "host:port" (port default 53) of the server asked for
  // _acme-challenge TXT records; "" uses the system's resolver (/etc/resolv.conf).
  std::string dns_resolver;
  std::chrono::seconds timeout{10};      // one attempt's connect + read
  int attempts = 5;                      // tries before the challenge is invalid
  std::chrono::milliseconds backoff{1000};  // wait before the 2nd try; doubles each time
};

struct AcmeProvisionerConfig {
  std::string name;
  std::vector<std::string> challenges = {kHttp01, kDns01, kTlsAlpn01};
  std::string terms_of_service;  // URL; "" for none
  std::string website;
  std::vector<std::string> caa_identities;
  bool require_eab = false;      // true when eab_keys is non-empty
  std::vector<EabKey> eab_keys;
  ValidationOptions validation;
  std::chrono::seconds order_lifetime{std::chrono::hours(24)};  // pending orders and authorizations expire
  bool force_cn = false;         // put the first DNS identifier in the subject CN when the CSR has none

  [[nodiscard]] bool offers(std::string_view challenge) const {
    for (const auto& c : challenges) {
      if (c == challenge) return true;
    }
    return false;
  }
};

}  // namespace keystep::acme
