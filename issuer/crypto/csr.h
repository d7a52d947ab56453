#pragma once
// Csr is a parsed PKCS#10 certificate request whose signature has been
// verified. Input is bounded before parsing: at most 64 KiB of PEM and 100
// subject alternative names. Immutable; safe to share between threads.

#include <string>
#include <string_view>

#include "issuer/common/base64.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::crypto {

inline constexpr std::size_t kMaxCsrPemBytes = 64 * 1024;
inline constexpr std::size_t kMaxCsrSans = 100;

class Csr {
 public:
  [[nodiscard]] static Result<Csr> from_pem(std::string_view pem);
  [[nodiscard]] static Result<Csr> from_der(const unsigned char* der, std::size_t size);

  [[nodiscard]] X509_REQ* get() const { return req_.get(); }
  [[nodiscard]] EVP_PKEY* public_key() const;  // borrowed
  [[nodiscard]] const X509_PUBKEY* public_key_info() const { return X509_REQ_get_X509_PUBKEY(req_.get()); }
  [[nodiscard]] const common::Bytes& der() const { return der_; }
  [[nodiscard]] const std::string& common_name() const { return common_name_; }
  [[nodiscard]] const SubjectAltNames& sans() const { return sans_; }
  // requests_ca is true when the CSR asks for basicConstraints CA:TRUE.
  [[nodiscard]] bool requests_ca() const { return requests_ca_; }

 private:
  explicit Csr(X509ReqPtr req) : req_(std::move(req)) {}
  [[nodiscard]] static Result<Csr> finish(X509ReqPtr req);
  X509ReqPtr req_;
  common::Bytes der_;
  std::string common_name_;
  SubjectAltNames sans_;
  bool requests_ca_ = false;
};

}  // namespace keystep::crypto
