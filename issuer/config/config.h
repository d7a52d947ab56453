#pragma once
// Config is the standalone server's configuration, read from keystep.yaml.
// Its CA fields (claims, policy, provisioners) are the same schema as a
// StepClusterIssuer's spec, read by the same parser (issuer_spec.h); the
// server fields (address, dnsNames, ca files) are standalone only. Relative paths are resolved against the directory of
// the config file. Unknown keys are errors, so a typo never silently drops a
// setting; every error names the field path.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "issuer/authority/authority.h"
#include "issuer/common/error.h"
#include "issuer/storage/storage_config.h"

namespace keystep::config {

struct CaFiles {
  std::filesystem::path root;           // ca.root: root certificate(s), PEM
  std::filesystem::path crt;            // ca.crt: intermediate (+ further intermediates), PEM
  std::filesystem::path key;            // ca.key: intermediate key, PEM (maybe encrypted)
  std::filesystem::path password_file;  // ca.passwordFile: password of ca.key; default none
};

struct CrlConfig {
  bool enabled = true;                                 // crl.enabled
  std::chrono::seconds cache_duration{std::chrono::hours(24)};  // crl.cacheDuration: nextUpdate - thisUpdate
  std::chrono::seconds renew_period{std::chrono::hours(16)};    // crl.renewPeriod: regenerate after this (default 2/3)
  std::string idp_url;                                 // crl.idpURL: Issuing Distribution Point; "" = none
  std::string distribution_point;                      // crl.distributionPoint: CDP in leaves; default idpURL
};

struct Config {
  std::string address = "127.0.0.1:9000";  // address: host:port of the HTTPS listener
  std::string insecure_address;            // insecureAddress: plain-HTTP listener for roots, CRL, OCSP; "" = none
  std::string log_level = "info";          // logLevel: debug, info, warn, error
  CaFiles ca;
  storage::StorageConfig storage;          // storage: sqlite (default: keystep.db beside the config) or postgres
  CrlConfig crl;
  std::chrono::seconds ocsp_validity{std::chrono::hours(1)};  // ocsp.validity: nextUpdate - thisUpdate of answers
  std::chrono::seconds tls_lifetime{std::chrono::hours(24)};  // tlsCertDuration: the server certificate's lifetime
  authority::AuthorityOptions authority;   // dnsNames, claims, policy, backdate, provisioners,
                                           // distribution (aia.ocsp, aia.caIssuers, CRL DP), ...
};

[[nodiscard]] Result<Config> load_config(const std::filesystem::path& path);
[[nodiscard]] Result<Config> parse_config(std::string_view yaml, const std::filesystem::path& base_dir);

// split_host_port parses "host:port", "[v6]:port" or ":port" (host 0.0.0.0).
[[nodiscard]] Result<std::pair<std::string, unsigned short>> split_host_port(std::string_view address);

}  // namespace keystep::config
