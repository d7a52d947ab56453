#pragma once
// The step provisioner extension (OID 1.3.6.1.4.1.37476.9000.64.1) that
// step-ca puts in every leaf, so renew and revoke can find the provisioner
// that authorized a certificate:
//   SEQUENCE { INTEGER type, OCTET STRING name, OCTET STRING credentialID }

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <openssl/x509.h>

namespace keystep::signing {

inline constexpr char kProvisionerOid[] = "1.3.6.1.4.1.37476.9000.64.1";

enum class ProvisionerType : int { jwk = 1, oidc = 2, acme = 6, x5c = 7, k8ssa = 8 };

struct ProvisionerRef {
  ProvisionerType type = ProvisionerType::jwk;
  std::string name;
  std::string credential_id;  // JWK: the key id
};

[[nodiscard]] std::vector<unsigned char> encode_provisioner_extension(const ProvisionerRef& ref);
// decode_provisioner_extension reads the extension of `cert`, if present.
[[nodiscard]] std::optional<ProvisionerRef> decode_provisioner_extension(const X509* cert);

}  // namespace keystep::signing
