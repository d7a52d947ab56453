#include "cli/certificate_request.h"

#include "issuer/crypto/csr.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/crypto/pem.h"
#include "issuer/policy/names.h"

namespace keystep::cli {
namespace {

void free_extensions(STACK_OF(X509_EXTENSION) * exts) { sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free); }
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), crypto::FreeWith<free_extensions>>;

Status push_names(GENERAL_NAMES* names, int type, const std::vector<std::string>& values) {
  for (const auto& value : values) {
    GENERAL_NAME* name = a2i_GENERAL_NAME(nullptr, nullptr, nullptr, type, value.c_str(), 0);
    if (name == nullptr) {
      return crypto::openssl_error(Errc::invalid_argument, "cannot encode the name \"" + value + "\"");
    }
    if (sk_GENERAL_NAME_push(names, name) <= 0) {
      GENERAL_NAME_free(name);
      return crypto::openssl_error(Errc::internal, "cannot add a subject alternative name");
    }
  }
  return ok();
}

Status add_subject_alt_names(X509_REQ* req, const std::vector<std::string>& sans) {
  const policy::Names split = policy::split_sans(sans);
  crypto::GeneralNameStackPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return crypto::openssl_error(Errc::internal, "cannot allocate names");
  // Go's order (crypto/x509 marshalSANs): DNS, email, IP, URI.
  for (auto [type, values] : {std::pair{GEN_DNS, &split.dns}, std::pair{GEN_EMAIL, &split.emails},
                              std::pair{GEN_IPADD, &split.ips}, std::pair{GEN_URI, &split.uris}}) {
    if (auto pushed = push_names(names.get(), type, *values); !pushed) return pushed;
  }
  crypto::X509ExtensionPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!ext || !exts || sk_X509_EXTENSION_push(exts.get(), ext.get()) <= 0) {
    return crypto::openssl_error(Errc::internal, "cannot encode subjectAltName");
  }
  ext.release();  // owned by exts now
  if (X509_REQ_add_extensions(req, exts.get()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot add subjectAltName to the request");
  }
  return ok();
}

}  // namespace

Result<std::string> make_csr_pem(EVP_PKEY* key, const std::string& common_name, const std::vector<std::string>& sans) {
  if (sans.size() > crypto::kMaxCsrSans) {
    return fail(Errc::invalid_argument, "a request holds at most " + std::to_string(crypto::kMaxCsrSans) + " names");
  }
  crypto::X509ReqPtr req(X509_REQ_new());
  if (!req) return crypto::openssl_error(Errc::internal, "cannot allocate a request");
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());  // borrowed
  if (X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1) {
    return crypto::openssl_error(Errc::invalid_argument, "cannot set the common name \"" + common_name + "\"");
  }
  if (X509_REQ_set_pubkey(req.get(), key) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot set the request's public key");
  }
  if (!sans.empty()) {
    if (auto added = add_subject_alt_names(req.get(), sans); !added) return tl::unexpected(added.error());
  }
  if (X509_REQ_sign(req.get(), key, crypto::signature_digest(key)) <= 0) {
    return crypto::openssl_error(Errc::internal, "cannot sign the request");
  }
  unsigned char* der = nullptr;
  int size = i2d_X509_REQ(req.get(), &der);
  if (size <= 0) return crypto::openssl_error(Errc::internal, "cannot encode the request");
  crypto::OpensslStringPtr owned(reinterpret_cast<char*>(der));
  return crypto::pem_encode("CERTIFICATE REQUEST", der, static_cast<std::size_t>(size));
}

}  // namespace keystep::cli
