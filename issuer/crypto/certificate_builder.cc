#include "issuer/crypto/certificate_builder.h"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <cstring>

#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_error.h"

namespace keystep::crypto {
namespace {

using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, FreeWith<ASN1_BIT_STRING_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, FreeWith<BASIC_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, FreeWith<AUTHORITY_KEYID_free>>;
using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, FreeWith<NAME_CONSTRAINTS_free>>;
inline void free_eku(EXTENDED_KEY_USAGE* e) { sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free); }
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, FreeWith<free_eku>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, FreeWith<GENERAL_NAME_free>>;

GeneralNamePtr ia5_name(int type, const std::string& value) {
  GeneralNamePtr gn(GENERAL_NAME_new());
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
  GENERAL_NAME_set0_value(gn.get(), type, s);
  return gn;
}

// ip_name encodes an address, or an address/prefix as address+mask (for
// name constraints).
Result<GeneralNamePtr> ip_name(const std::string& text, bool with_mask) {
  std::string addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    if (!with_mask) return fail(Errc::invalid_argument, "\"" + text + "\" is not an IP address");
    addr = text.substr(0, slash);
    try {
      prefix = std::stoi(text.substr(slash + 1));
    } catch (...) {
      return fail(Errc::invalid_argument, "\"" + text + "\" is not a CIDR");
    }
  }
  unsigned char buf[32] = {0};
  int len = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) len = 4;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) len = 16;
  else return fail(Errc::invalid_argument, "\"" + text + "\" is not an IP address");
  if (with_mask) {
    if (prefix < 0) prefix = len * 8;
    if (prefix > len * 8) return fail(Errc::invalid_argument, "\"" + text + "\" has an invalid prefix length");
    for (int i = 0; i < len; ++i) {
      int bits = std::min(8, std::max(0, prefix - i * 8));
      buf[len + i] = static_cast<unsigned char>(bits == 0 ? 0 : (0xff << (8 - bits)) & 0xff);
    }
    len *= 2;
  }
  GeneralNamePtr gn(GENERAL_NAME_new());
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, buf, len);
  GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, os);
  return gn;
}

}  // namespace

CertificateBuilder::CertificateBuilder() : x509_(X509_new()) { X509_set_version(x509_.get(), 2); }

Status CertificateBuilder::set_random_serial() {
  BignumPtr bn(BN_new());
  do {
    if (BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return openssl_error(Errc::internal, "cannot generate serial");
    }
  } while (BN_is_zero(bn.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(x509_.get(), serial.get()) != 1) {
    return openssl_error(Errc::internal, "cannot set serial");
  }
  return ok();
}

Status CertificateBuilder::set_subject_common_name(const std::string& cn, const std::string& organization) {
  X509NamePtr name(X509_NAME_new());
  if (!organization.empty() &&
      X509_NAME_add_entry_by_NID(name.get(), NID_organizationName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(organization.c_str()), -1, -1, 0) != 1) {
    return openssl_error(Errc::invalid_argument, "invalid organization");
  }
  if (!cn.empty() &&
      X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1) {
    return openssl_error(Errc::invalid_argument, "invalid common name (at most 64 characters)");
  }
  return set_subject(name.get());
}

Status CertificateBuilder::set_subject(const X509_NAME* name) {
  if (X509_set_subject_name(x509_.get(), name) != 1) return openssl_error(Errc::internal, "cannot set subject");
  if (self_issued_ && X509_set_issuer_name(x509_.get(), name) != 1) {
    return openssl_error(Errc::internal, "cannot set issuer");
  }
  return ok();
}

Status CertificateBuilder::set_issuer(const Certificate& issuer) {
  if (X509_set_issuer_name(x509_.get(), X509_get_subject_name(issuer.get())) != 1) {
    return openssl_error(Errc::internal, "cannot set issuer");
  }
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(issuer.get());
  if (skid == nullptr) return ok();  // an issuer without SKI gets no AKI
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  akid->keyid = ASN1_OCTET_STRING_dup(skid);
  return add_i2d(NID_authority_key_identifier, akid.get(), false);
}

Status CertificateBuilder::set_self_issued() {
  self_issued_ = true;
  if (X509_set_issuer_name(x509_.get(), X509_get_subject_name(x509_.get())) != 1) {
    return openssl_error(Errc::internal, "cannot set issuer");
  }
  return ok();
}

Status CertificateBuilder::set_validity(common::TimePoint not_before, common::TimePoint not_after) {
  Asn1TimePtr nb(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(not_before)));
  Asn1TimePtr na(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(not_after)));
  if (!nb || !na || X509_set1_notBefore(x509_.get(), nb.get()) != 1 ||
      X509_set1_notAfter(x509_.get(), na.get()) != 1) {
    return openssl_error(Errc::internal, "cannot set validity");
  }
  return ok();
}

Status CertificateBuilder::set_public_key(EVP_PKEY* key) {
  // Keep only the public half: X509_set_pubkey caches the EVP_PKEY it is
  // given, and a certificate must never carry (or hand out) a private key.
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return openssl_error(Errc::invalid_argument, "cannot encode public key");
  std::vector<unsigned char> der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  i2d_PUBKEY(key, &out);
  const unsigned char* in = der.data();
  EvpPkeyPtr public_only(d2i_PUBKEY(nullptr, &in, len));
  if (!public_only) return openssl_error(Errc::internal, "cannot decode public key");
  if (X509_set_pubkey(x509_.get(), public_only.get()) != 1) {
    return openssl_error(Errc::internal, "cannot set public key");
  }
  return add_subject_key_id();
}

Status CertificateBuilder::set_public_key_info(const X509_PUBKEY* spki, EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  known_key_.reset(key);
  ASN1_OBJECT* key_alg = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(&key_alg, &bits, &bits_len, &algor, spki) != 1 || bits_len <= 0) {
    return openssl_error(Errc::invalid_argument, "malformed public key");
  }
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&alg_oid, &param_type, &param, algor);
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  }
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(bits_len)));
  ASN1_OBJECT* oid_copy = OBJ_dup(alg_oid);
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x509_.get()), oid_copy, param_type, param_copy, bits_copy,
                             bits_len) != 1) {
    return openssl_error(Errc::internal, "cannot set public key");
  }
  return add_subject_key_id();
}

Status CertificateBuilder::add_subject_key_id() {
  // subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1).
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x509_.get(), EVP_sha1(), md, &len) != 1) {
    return openssl_error(Errc::internal, "cannot hash public key");
  }
  Asn1OctetStringPtr skid(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(skid.get(), md, static_cast<int>(len));
  return add_i2d(NID_subject_key_identifier, skid.get(), false);
}

Status CertificateBuilder::add_basic_constraints(bool is_ca, int path_length) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  bc->ca = is_ca ? 0xff : 0;
  if (is_ca && path_length >= 0) {
    bc->pathlen = ASN1_INTEGER_new();
    ASN1_INTEGER_set(bc->pathlen, path_length);
  }
  return add_i2d(NID_basic_constraints, bc.get(), true);
}

Status CertificateBuilder::add_key_usage(int ku_bits) {
  Asn1BitStringPtr bits(ASN1_BIT_STRING_new());
  // KU_* constants are the DER bit positions read as a little-endian word:
  // bit 0 (digitalSignature) is 0x80 of the first octet, and so on.
  for (int bit = 0; bit < 9; ++bit) {
    int flag = bit < 8 ? (0x80 >> bit) : 0x8000;
    if ((ku_bits & flag) != 0) ASN1_BIT_STRING_set_bit(bits.get(), bit, 1);
  }
  return add_i2d(NID_key_usage, bits.get(), true);
}

Status CertificateBuilder::add_ext_key_usage(const std::vector<int>& nids) {
  EkuPtr eku(sk_ASN1_OBJECT_new_null());
  for (int nid : nids) sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(nid));
  return add_i2d(NID_ext_key_usage, eku.get(), false);
}

Status CertificateBuilder::add_subject_alt_names(const SubjectAltNames& sans, bool critical) {
  GeneralNameStackPtr names(sk_GENERAL_NAME_new_null());
  for (const auto& d : sans.dns) sk_GENERAL_NAME_push(names.get(), ia5_name(GEN_DNS, d).release());
  for (const auto& ip : sans.ips) {
    auto gn = ip_name(ip, false);
    if (!gn) return tl::unexpected(gn.error());
    sk_GENERAL_NAME_push(names.get(), gn->release());
  }
  for (const auto& e : sans.emails) sk_GENERAL_NAME_push(names.get(), ia5_name(GEN_EMAIL, e).release());
  for (const auto& u : sans.uris) sk_GENERAL_NAME_push(names.get(), ia5_name(GEN_URI, u).release());
  if (sk_GENERAL_NAME_num(names.get()) == 0) return ok();
  return add_i2d(NID_subject_alt_name, names.get(), critical);
}

Status CertificateBuilder::add_name_constraints(const NameConstraints& nc) {
  if (nc.empty()) return ok();
  NameConstraintsPtr constraints(NAME_CONSTRAINTS_new());
  auto add = [](STACK_OF(GENERAL_SUBTREE) * *list, GeneralNamePtr gn) {
    if (*list == nullptr) *list = sk_GENERAL_SUBTREE_new_null();
    GENERAL_SUBTREE* subtree = GENERAL_SUBTREE_new();
    GENERAL_NAME_free(subtree->base);
    subtree->base = gn.release();
    sk_GENERAL_SUBTREE_push(*list, subtree);
  };
  auto add_all = [&](STACK_OF(GENERAL_SUBTREE) * *list, const std::vector<std::string>& dns,
                     const std::vector<std::string>& ips, const std::vector<std::string>& emails,
                     const std::vector<std::string>& uris) -> Status {
    for (const auto& d : dns) add(list, ia5_name(GEN_DNS, d));
    for (const auto& ip : ips) {
      auto gn = ip_name(ip, true);
      if (!gn) return tl::unexpected(gn.error());
      add(list, std::move(*gn));
    }
    for (const auto& e : emails) add(list, ia5_name(GEN_EMAIL, e));
    for (const auto& u : uris) add(list, ia5_name(GEN_URI, u));
    return ok();
  };
  if (auto s = add_all(&constraints->permittedSubtrees, nc.permitted_dns, nc.permitted_ips, nc.permitted_emails,
                       nc.permitted_uris);
      !s) {
    return s;
  }
  if (auto s = add_all(&constraints->excludedSubtrees, nc.excluded_dns, nc.excluded_ips, nc.excluded_emails,
                       nc.excluded_uris);
      !s) {
    return s;
  }
  return add_i2d(NID_name_constraints, constraints.get(), true);
}

Status CertificateBuilder::add_der_extension(const std::string& oid, const std::vector<unsigned char>& der,
                                             bool critical) {
  std::unique_ptr<ASN1_OBJECT, FreeWith<ASN1_OBJECT_free>> obj(OBJ_txt2obj(oid.c_str(), 1));
  if (!obj) return openssl_error(Errc::invalid_argument, "invalid extension oid " + oid);
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size()));
  X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, value.get()));
  if (!ext || X509_add_ext(x509_.get(), ext.get(), -1) != 1) {
    return openssl_error(Errc::internal, "cannot add extension " + oid);
  }
  return ok();
}

Status CertificateBuilder::add_i2d(int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x509_.get(), nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return openssl_error(Errc::internal, std::string("cannot add extension ") + OBJ_nid2sn(nid));
  }
  return ok();
}

Result<Certificate> CertificateBuilder::sign(EVP_PKEY* issuer_key) {
  if (X509_sign(x509_.get(), issuer_key, signature_digest(issuer_key)) <= 0) {
    return openssl_error(Errc::internal, "cannot sign certificate");
  }
  return Certificate(std::move(x509_), std::move(known_key_));
}

}  // namespace keystep::crypto
