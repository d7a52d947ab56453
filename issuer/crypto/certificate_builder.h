#pragma once
// CertificateBuilder assembles one X.509 v3 certificate and signs it. It is
// used by the signer for leaves and by `keystep init` for the root and the
// intermediate. Extensions are encoded directly (no config-string parsing),
// since leaf issuance is on the measured hot path. Not thread-safe; build one
// per certificate.

#include <string>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::crypto {

struct NameConstraints {
  std::vector<std::string> permitted_dns, excluded_dns;  // ".internal" or "internal" (subtree)
  std::vector<std::string> permitted_ips, excluded_ips;  // CIDR
  std::vector<std::string> permitted_emails, excluded_emails;
  std::vector<std::string> permitted_uris, excluded_uris;
  [[nodiscard]] bool empty() const {
    return permitted_dns.empty() && excluded_dns.empty() && permitted_ips.empty() && excluded_ips.empty() &&
           permitted_emails.empty() && excluded_emails.empty() && permitted_uris.empty() && excluded_uris.empty();
  }
};

class CertificateBuilder {
 public:
  CertificateBuilder();

  Status set_random_serial();
  Status set_subject_common_name(const std::string& cn, const std::string& organization = "");
  Status set_subject(const X509_NAME* name);
  // set_issuer copies the issuer's subject and adds authorityKeyIdentifier
  // from the issuer's subjectKeyIdentifier.
  Status set_issuer(const Certificate& issuer);
  // set_self_issued makes the certificate its own issuer (a root).
  Status set_self_issued();
  Status set_validity(common::TimePoint not_before, common::TimePoint not_after);
  Status set_public_key(EVP_PKEY* key);  // borrowed; also sets subjectKeyIdentifier
  // set_public_key_info copies an already encoded SubjectPublicKeyInfo (a
  // CSR's) as it is. Unlike set_public_key it runs no OpenSSL 3 encoder or
  // decoder, which would cost more than the signature itself. `key` is the
  // same key, decoded (borrowed): the signed Certificate reports it.
  Status set_public_key_info(const X509_PUBKEY* spki, EVP_PKEY* key);
  Status add_basic_constraints(bool is_ca, int path_length /*-1: none*/);
  Status add_key_usage(int ku_bits);  // KU_DIGITAL_SIGNATURE | ... ; always critical
  Status add_ext_key_usage(const std::vector<int>& nids);
  Status add_subject_alt_names(const SubjectAltNames& sans, bool critical);
  Status add_name_constraints(const NameConstraints& nc);
  // add_der_extension adds an extension whose value is already DER.
  Status add_der_extension(const std::string& oid, const std::vector<unsigned char>& der, bool critical);

  [[nodiscard]] Result<Certificate> sign(EVP_PKEY* issuer_key);

 private:
  Status add_i2d(int nid, void* value, bool critical);
  Status add_subject_key_id();
  X509Ptr x509_;
  EvpPkeyPtr known_key_;  // the key behind set_public_key_info
  bool self_issued_ = false;
};

}  // namespace keystep::crypto
