#pragma once
// Certificate is an immutable, cheaply copyable X.509 certificate (copies
// share the X509 through X509_up_ref). Safe to share between threads.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/base64.h"
#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::crypto {

inline constexpr std::size_t kMaxChainLength = 8;

struct SubjectAltNames {
  std::vector<std::string> dns, ips, emails, uris;
};

class Certificate {
 public:
  // from_pem reads the first CERTIFICATE block.
  [[nodiscard]] static Result<Certificate> from_pem(std::string_view pem);
  [[nodiscard]] static Result<Certificate> from_der(const unsigned char* der, std::size_t size);
  // chain_from_pem reads every CERTIFICATE block in order (at most
  // kMaxChainLength); an empty bundle is an error.
  [[nodiscard]] static Result<std::vector<Certificate>> chain_from_pem(std::string_view pem);
  explicit Certificate(X509Ptr x509);
  // This form also records the certificate's public key when the X509 was
  // built without a decoded key (CertificateBuilder::set_public_key_info).
  Certificate(X509Ptr x509, EvpPkeyPtr public_key);

  [[nodiscard]] X509* get() const { return data_->x509.get(); }
  [[nodiscard]] EVP_PKEY* public_key() const;  // borrowed
  [[nodiscard]] const std::string& pem() const { return data_->pem; }
  [[nodiscard]] const common::Bytes& der() const { return data_->der; }
  [[nodiscard]] const std::string& sha256_hex() const { return data_->sha256_hex; }  // fingerprint of the DER
  [[nodiscard]] std::string serial_hex() const;
  [[nodiscard]] std::string serial_decimal() const;
  [[nodiscard]] std::string subject() const;  // RFC 2253 one-line form
  [[nodiscard]] std::string issuer() const;
  [[nodiscard]] std::string common_name() const;
  [[nodiscard]] common::TimePoint not_before() const;
  [[nodiscard]] common::TimePoint not_after() const;
  [[nodiscard]] bool is_ca() const;
  [[nodiscard]] bool is_self_signed() const;
  [[nodiscard]] bool can_sign_certificates() const;  // keyUsage keyCertSign (or no keyUsage)
  [[nodiscard]] long path_length() const;            // -1 when unlimited or absent
  [[nodiscard]] SubjectAltNames subject_alt_names() const;

 private:
  struct Data {
    X509Ptr x509;
    EvpPkeyPtr public_key;  // set when X509_get0_pubkey cannot decode it
    common::Bytes der;
    std::string pem;
    std::string sha256_hex;  // computed once: ledger records and /root lookups need it
  };
  std::shared_ptr<const Data> data_;  // copies share one immutable parse
};

// chain_to_pem concatenates the PEM of every certificate.
[[nodiscard]] std::string chain_to_pem(const std::vector<Certificate>& chain);

// sha256_hex of arbitrary bytes, lowercase.
[[nodiscard]] std::string sha256_hex(const unsigned char* data, std::size_t size);

// normalize_fingerprint strips ':' and '-' and lowercases, as step does.
[[nodiscard]] std::string normalize_fingerprint(std::string_view fp);

[[nodiscard]] common::TimePoint asn1_time_to_time_point(const ASN1_TIME* t);

}  // namespace keystep::crypto
