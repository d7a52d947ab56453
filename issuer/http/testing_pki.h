#pragma once
// Test-only (header-only, so it stays out of the library): throwaway P-256
// certificates made with OpenSSL for the http tests. Failures throw, which
// Catch2 reports as a failed test.

#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "issuer/crypto/openssl_ptr.h"

namespace keystep::http::testing {

struct TestCert {
  crypto::X509Ptr cert;
  crypto::EvpPkeyPtr key;

  [[nodiscard]] std::string cert_pem() const {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    return read_all(bio.get());
  }
  [[nodiscard]] std::string key_pem() const {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return read_all(bio.get());
  }
  [[nodiscard]] std::string der() const {
    int len = i2d_X509(cert.get(), nullptr);
    std::string out(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    i2d_X509(cert.get(), &p);
    return out;
  }

 private:
  static std::string read_all(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
  }
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ips;
  bool is_ca = false;
  bool client_auth = false;  // leaf EKU clientAuth, else serverAuth
  long serial = 1;
};

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("testing_pki: ") + what);
}

inline crypto::EvpPkeyPtr make_p256_key() {
  crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// make_cert issues spec, signed by issuer, or self-signed when issuer is null.
inline TestCert make_cert(const CertSpec& spec, const TestCert* issuer = nullptr) {
  TestCert out{crypto::X509Ptr(X509_new()), make_p256_key()};
  X509* cert = out.cert.get();
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert), spec.serial) == 1, "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);  // borrowed
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* signer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(signer)) == 1, "issuer name");
  check(X509_set_pubkey(cert, out.key.get()) == 1, "X509_set_pubkey");
  add_extension(cert, signer, NID_subject_key_identifier, "hash");
  add_extension(cert, signer, NID_authority_key_identifier, "keyid:always");
  if (spec.is_ca) {
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, signer, NID_ext_key_usage, spec.client_auth ? "clientAuth" : "serverAuth");
  }
  std::string sans;
  for (const auto& dns : spec.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : spec.ips) sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) add_extension(cert, signer, NID_subject_alt_name, sans);
  check(X509_sign(cert, signer_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

inline TestCert make_root(const std::string& common_name) {
  return make_cert(CertSpec{common_name, {}, {}, true, false, 1});
}

// serial_of reads the serial number of a DER certificate.
inline long serial_of(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  check(cert != nullptr, "d2i_X509");
  return ASN1_INTEGER_get(X509_get0_serialNumber(cert.get()));
}

}  // namespace keystep::http::testing
