#pragma once
// Signer issues leaf certificates from one CertificateAuthority, with
// step-ca's default leaf profile: keyUsage digitalSignature (plus
// keyEncipherment for RSA keys), extKeyUsage serverAuth+clientAuth, SKI/AKI,
// the SANs it is given (critical when the subject is empty), the provisioner
// extension, and a random 128-bit positive serial. A request may replace the
// usages (LeafRequest::usages: exactly those keyUsage bits and extKeyUsage
// purposes) or ask for a CA (is_ca: basicConstraints CA:TRUE, pathlen 0,
// critical, and keyUsage keyCertSign+cRLSign+digitalSignature on top of the
// requested bits; no extKeyUsage unless usages names some). Authorization,
// name policy and lifetime claims are decided before sign() is called;
// sign() still clamps notAfter to the intermediate's notAfter and enforces
// the intermediate's name constraints. Safe to share between threads.

#include <memory>
#include <optional>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/policy/key_usages.h"
#include "issuer/signing/certificate_authority.h"
#include "issuer/signing/distribution_extensions.h"
#include "issuer/signing/provisioner_extension.h"

namespace keystep::signing {

struct LeafRequest {
  EVP_PKEY* public_key = nullptr;  // borrowed; already checked by the key policy
  const X509_PUBKEY* public_key_info = nullptr;  // borrowed; when set, copied as encoded (faster)
  std::string common_name;
  crypto::SubjectAltNames sans;
  common::TimePoint not_before;
  common::TimePoint not_after;
  ProvisionerRef provisioner;  // no provisioner extension when name is empty
  const std::vector<DerExtension>* extra_extensions = nullptr;  // borrowed: CRL DP, AIA
  std::optional<policy::KeyUsages> usages;  // unset: the default profile above
  bool is_ca = false;                       // a CA certificate (CertificateRequest isCA)
};

struct IssuedCertificate {
  crypto::Certificate leaf;
  std::vector<crypto::Certificate> chain;  // leaf, then the intermediates
};

class Signer {
 public:
  explicit Signer(std::shared_ptr<const CertificateAuthority> ca) : ca_(std::move(ca)) {}

  [[nodiscard]] Result<IssuedCertificate> sign(const LeafRequest& request) const;
  [[nodiscard]] const CertificateAuthority& authority() const { return *ca_; }

 private:
  std::shared_ptr<const CertificateAuthority> ca_;
};

}  // namespace keystep::signing
