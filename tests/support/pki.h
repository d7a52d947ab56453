#pragma once
// Test-only helpers that make throwaway PKI material in memory: keys, CSRs,
// a root and an intermediate. Header-only so any test binary can use them.

#include <openssl/pem.h>

#include <string>
#include <vector>

#include "issuer/crypto/certificate_builder.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::testing {

using namespace std::chrono_literals;

inline crypto::EvpPkeyPtr make_key(const std::string& kty = "EC", const std::string& crv = "P-256", int bits = 0) {
  crypto::EvpPkeyPtr key;
  if (kty == "EC") key.reset(EVP_EC_gen(crv.c_str()));
  else if (kty == "RSA") key.reset(EVP_RSA_gen(static_cast<unsigned>(bits)));
  else key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return key;
}

struct CsrSpec {
  std::string cn;
  std::vector<std::string> dns, ips, emails, uris;
  bool is_ca = false;
};

inline std::string make_csr_pem(EVP_PKEY* key, const CsrSpec& spec) {
  crypto::X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  crypto::X509NamePtr name(X509_NAME_new());
  if (!spec.cn.empty()) {
    X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  }
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  std::string san;
  for (const auto& d : spec.dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& d : spec.ips) san += (san.empty() ? "" : ",") + std::string("IP:") + d;
  for (const auto& d : spec.emails) san += (san.empty() ? "" : ",") + std::string("email:") + d;
  for (const auto& d : spec.uris) san += (san.empty() ? "" : ",") + std::string("URI:") + d;
  if (!san.empty()) {
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  }
  if (spec.is_ca) {
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
  }
  if (sk_X509_EXTENSION_num(exts) > 0) X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256());
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

struct TestPki {
  crypto::EvpPkeyPtr root_key, intermediate_key;
  std::string root_pem, intermediate_pem, intermediate_key_pem;
};

inline crypto::Certificate make_ca_cert(EVP_PKEY* key, const std::string& cn, const crypto::Certificate* issuer,
                                        EVP_PKEY* issuer_key, int pathlen,
                                        std::chrono::hours lifetime = 24h * 365,
                                        std::chrono::hours start_offset = -1h) {
  crypto::CertificateBuilder b;
  (void)b.set_random_serial();
  if (issuer == nullptr) (void)b.set_self_issued();
  (void)b.set_subject_common_name(cn, "Keystep Test");
  if (issuer != nullptr) (void)b.set_issuer(*issuer);
  auto now = std::chrono::system_clock::now();
  (void)b.set_validity(now + start_offset, now + start_offset + lifetime);
  (void)b.set_public_key(key);
  (void)b.add_basic_constraints(true, pathlen);
  (void)b.add_key_usage(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
  return *b.sign(issuer_key);
}

inline TestPki make_pki(const std::string& kty = "EC", const std::string& crv = "P-256") {
  TestPki pki;
  pki.root_key = make_key(kty, crv, 2048);
  pki.intermediate_key = make_key(kty, crv, 2048);
  auto root = make_ca_cert(pki.root_key.get(), "Test Root", nullptr, pki.root_key.get(), 1);
  auto inter = make_ca_cert(pki.intermediate_key.get(), "Test Intermediate", &root, pki.root_key.get(), 0);
  pki.root_pem = root.pem();
  pki.intermediate_pem = inter.pem();
  pki.intermediate_key_pem = std::string(crypto::private_key_to_pem(pki.intermediate_key.get())->view());
  return pki;
}

}  // namespace keystep::testing
