#include "issuer/crypto/csr.h"

#include <arpa/inet.h>
#include <openssl/pem.h>

#include "issuer/crypto/openssl_error.h"

namespace keystep::crypto {
namespace {

void free_extensions(STACK_OF(X509_EXTENSION) * exts) { sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free); }
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), FreeWith<free_extensions>>;

std::string asn1_string(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

Result<Csr> Csr::from_pem(std::string_view pem) {
  if (pem.size() > kMaxCsrPemBytes) return fail(Errc::invalid_argument, "csr larger than 64 KiB");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    ERR_clear_error();  // OpenSSL's reason for garbage input ("too long") misleads
    return fail(Errc::invalid_argument, "csr is not a PEM certificate request");
  }
  return finish(std::move(req));
}

Result<Csr> Csr::from_der(const unsigned char* der, std::size_t size) {
  if (size > kMaxCsrPemBytes) return fail(Errc::invalid_argument, "csr larger than 64 KiB");
  const unsigned char* p = der;
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(size)));
  if (!req || p != der + size) return openssl_error(Errc::invalid_argument, "csr is not DER");
  return finish(std::move(req));
}

Result<Csr> Csr::finish(X509ReqPtr req) {
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());  // borrowed
  if (key == nullptr) return openssl_error(Errc::invalid_argument, "csr public key is not supported");
  if (X509_REQ_verify(req.get(), key) != 1) {
    return openssl_error(Errc::invalid_argument, "csr signature does not verify");
  }
  Csr csr(std::move(req));
  int len = i2d_X509_REQ(csr.req_.get(), nullptr);
  csr.der_.resize(static_cast<std::size_t>(len));
  unsigned char* out = csr.der_.data();
  i2d_X509_REQ(csr.req_.get(), &out);

  const X509_NAME* subject = X509_REQ_get_subject_name(csr.req_.get());
  if (int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); idx >= 0) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (n < 0) return openssl_error(Errc::invalid_argument, "csr common name is not valid text");
    csr.common_name_.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }

  ExtensionStackPtr exts(X509_REQ_get_extensions(csr.req_.get()));
  ERR_clear_error();  // a CSR without extensions leaves a harmless error behind
  if (!exts) return csr;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_basic_constraints) {
      std::unique_ptr<BASIC_CONSTRAINTS, FreeWith<BASIC_CONSTRAINTS_free>> bc(
          static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext)));
      if (!bc) return openssl_error(Errc::invalid_argument, "csr basicConstraints extension is malformed");
      csr.requests_ca_ = bc->ca != 0;
      continue;
    }
    if (nid != NID_subject_alt_name) continue;
    GeneralNameStackPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (!names) return openssl_error(Errc::invalid_argument, "csr subjectAltName extension is malformed");
    if (static_cast<std::size_t>(sk_GENERAL_NAME_num(names.get())) > kMaxCsrSans) {
      return fail(Errc::invalid_argument, "csr has more than " + std::to_string(kMaxCsrSans) + " subject alternative names");
    }
    for (int j = 0; j < sk_GENERAL_NAME_num(names.get()); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), j);
      switch (gn->type) {
        case GEN_DNS: csr.sans_.dns.push_back(asn1_string(gn->d.dNSName)); break;
        case GEN_EMAIL: csr.sans_.emails.push_back(asn1_string(gn->d.rfc822Name)); break;
        case GEN_URI: csr.sans_.uris.push_back(asn1_string(gn->d.uniformResourceIdentifier)); break;
        case GEN_IPADD: {
          char buf[INET6_ADDRSTRLEN] = {0};
          const unsigned char* d = ASN1_STRING_get0_data(gn->d.iPAddress);
          int n = ASN1_STRING_length(gn->d.iPAddress);
          if (n == 4) inet_ntop(AF_INET, d, buf, sizeof buf);
          else if (n == 16) inet_ntop(AF_INET6, d, buf, sizeof buf);
          else return fail(Errc::invalid_argument, "csr has a malformed IP address SAN");
          csr.sans_.ips.push_back(buf);
          break;
        }
        default:
          return fail(Errc::invalid_argument, "csr has an unsupported subject alternative name type");
      }
    }
  }
  return csr;
}

EVP_PKEY* Csr::public_key() const { return X509_REQ_get0_pubkey(req_.get()); }

}  // namespace keystep::crypto
