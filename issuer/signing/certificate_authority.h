#pragma once
// CertificateAuthority is the signing identity of the CA: an intermediate
// certificate with its key, the rest of its chain, and the roots it must
// chain to. load() refuses anything that could not issue valid leaves: a
// key that does not match, a certificate that is not a CA or lacks
// keyCertSign, one outside its validity, one that does not chain to a root,
// and a self-signed root (the root key stays offline). Immutable and safe to
// share between threads; rotation swaps the whole object.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::signing {

struct CaSources {
  std::string chain_pem;  // intermediate first, then any further intermediates
  std::string key_pem;    // the intermediate's private key (PEM, maybe encrypted)
  std::string roots_pem;  // one or more roots
  const crypto::SecretBytes* password = nullptr;  // for an encrypted key
};

class CertificateAuthority {
 public:
  [[nodiscard]] static Result<std::shared_ptr<const CertificateAuthority>> load(const CaSources& sources,
                                                                                common::TimePoint now);

  [[nodiscard]] const crypto::Certificate& intermediate() const { return chain_.front(); }
  // chain() is the intermediate and any further intermediates, in file order.
  [[nodiscard]] const std::vector<crypto::Certificate>& chain() const { return chain_; }
  [[nodiscard]] const std::vector<crypto::Certificate>& roots() const { return roots_; }
  [[nodiscard]] EVP_PKEY* key() const { return key_.get(); }

  // check_name_constraints enforces the name constraints of every
  // intermediate on a certificate about to be returned.
  [[nodiscard]] Status check_name_constraints(X509* leaf) const;

 private:
  CertificateAuthority() = default;
  std::vector<crypto::Certificate> chain_;
  std::vector<crypto::Certificate> roots_;
  crypto::EvpPkeyPtr key_;
  using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, crypto::FreeWith<NAME_CONSTRAINTS_free>>;
  std::vector<NameConstraintsPtr> name_constraints_;  // decoded once at load
};

}  // namespace keystep::signing
