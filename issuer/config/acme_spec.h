#pragma once
// parse_acme_provisioner reads one provisioners[] item of type ACME, in
// keystep.yaml or a StepClusterIssuer spec:
//
//   - name: acme
//     type: ACME
//     challenges: [http-01, dns-01, tls-alpn-01]   # default: all three
//     termsOfService: https://ca.internal/tos      # directory meta
//     website: https://ca.internal
//     caaIdentities: [ca.internal]
//     forceCN: false          # CN = first DNS name when the CSR has no CN
//     orderLifetime: 24h      # pending orders and authorizations expire
//     externalAccountBinding: # new accounts must be bound to one of these keys
//       keys: [{keyID: team-a, hmacKey: <base64url>}]
//     validation:
//       http01Port: 80
//       tlsALPN01Port: 443
//       dnsResolver: 10.96.0.10:53   # default: the system resolver
//       timeout: 10s                 # one attempt
//       attempts: 5                  # then the challenge is invalid
//       backoff: 1s                  # before the 2nd attempt, doubling
//
// Errors are invalid_argument naming the field path. Pure function.

#include <string>

#include <yaml-cpp/yaml.h>

#include "issuer/acme/acme_config.h"
#include "issuer/common/error.h"

namespace keystep::config {

[[nodiscard]] Result<acme::AcmeProvisionerConfig> parse_acme_provisioner(const YAML::Node& node,
                                                                         const std::string& path, std::string name);

}  // namespace keystep::config
