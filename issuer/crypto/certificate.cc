#include "issuer/crypto/certificate.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cctype>
#include <ctime>

#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/pem.h"

namespace keystep::crypto {
namespace {

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string ip_to_string(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {0};
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  if (len == 4) inet_ntop(AF_INET, d, buf, sizeof buf);
  else if (len == 16) inet_ntop(AF_INET6, d, buf, sizeof buf);
  else return "invalid";
  return buf;
}

}  // namespace

Certificate::Certificate(X509Ptr x509) : Certificate(std::move(x509), nullptr) {}

Certificate::Certificate(X509Ptr x509, EvpPkeyPtr public_key) {
  auto data = std::make_shared<Data>();
  data->x509 = std::move(x509);
  data->public_key = std::move(public_key);
  int len = i2d_X509(data->x509.get(), nullptr);
  data->der.resize(static_cast<std::size_t>(len > 0 ? len : 0));
  unsigned char* p = data->der.data();
  i2d_X509(data->x509.get(), &p);
  data->pem = pem_encode("CERTIFICATE", data->der.data(), data->der.size());
  data->sha256_hex = crypto::sha256_hex(data->der.data(), data->der.size());
  data_ = std::move(data);
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  if (pem.size() > 256 * 1024) return fail(Errc::invalid_argument, "certificate larger than 256 KiB");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) return openssl_error(Errc::invalid_argument, "not a PEM certificate");
  return Certificate(std::move(x509));
}

Result<Certificate> Certificate::from_der(const unsigned char* der, std::size_t size) {
  const unsigned char* p = der;
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(size)));
  if (!x509 || p != der + size) return openssl_error(Errc::invalid_argument, "not a DER certificate");
  return Certificate(std::move(x509));
}

Result<std::vector<Certificate>> Certificate::chain_from_pem(std::string_view pem) {
  auto blocks = split_pem(pem, kMaxChainLength * 2);
  if (!blocks) return tl::unexpected(blocks.error());
  std::vector<Certificate> chain;
  for (const auto& block : *blocks) {
    if (block.label != "CERTIFICATE") continue;
    if (chain.size() == kMaxChainLength) {
      return fail(Errc::invalid_argument, "chain longer than " + std::to_string(kMaxChainLength) + " certificates");
    }
    auto cert = from_pem(block.text);
    if (!cert) return tl::unexpected(cert.error());
    chain.push_back(std::move(*cert));
  }
  if (chain.empty()) return fail(Errc::invalid_argument, "no CERTIFICATE block found");
  return chain;
}

EVP_PKEY* Certificate::public_key() const {
  return data_->public_key ? data_->public_key.get() : X509_get0_pubkey(get());
}

std::string Certificate::serial_hex() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(get()), nullptr));
  OpensslStringPtr hex(BN_bn2hex(bn.get()));
  std::string s(hex.get());
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Certificate::serial_decimal() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(get()), nullptr));
  OpensslStringPtr dec(BN_bn2dec(bn.get()));
  return dec.get();
}

std::string Certificate::subject() const { return name_to_string(X509_get_subject_name(get())); }
std::string Certificate::issuer() const { return name_to_string(X509_get_issuer_name(get())); }

std::string Certificate::common_name() const {
  const X509_NAME* name = X509_get_subject_name(get());
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

common::TimePoint Certificate::not_before() const { return asn1_time_to_time_point(X509_get0_notBefore(get())); }
common::TimePoint Certificate::not_after() const { return asn1_time_to_time_point(X509_get0_notAfter(get())); }

bool Certificate::is_ca() const { return X509_check_ca(get()) > 0 && (X509_get_extension_flags(get()) & EXFLAG_CA); }

bool Certificate::is_self_signed() const { return X509_self_signed(get(), 0) == 1; }

bool Certificate::can_sign_certificates() const {
  if ((X509_get_extension_flags(get()) & EXFLAG_KUSAGE) == 0) return true;
  return (X509_get_key_usage(get()) & KU_KEY_CERT_SIGN) != 0;
}

long Certificate::path_length() const { return X509_get_pathlen(get()); }

SubjectAltNames Certificate::subject_alt_names() const {
  SubjectAltNames out;
  GeneralNameStackPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    auto str = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    };
    switch (gn->type) {
      case GEN_DNS: out.dns.push_back(str(gn->d.dNSName)); break;
      case GEN_IPADD: out.ips.push_back(ip_to_string(gn->d.iPAddress)); break;
      case GEN_EMAIL: out.emails.push_back(str(gn->d.rfc822Name)); break;
      case GEN_URI: out.uris.push_back(str(gn->d.uniformResourceIdentifier)); break;
      default: break;
    }
  }
  return out;
}

std::string chain_to_pem(const std::vector<Certificate>& chain) {
  std::string out;
  for (const auto& c : chain) out += c.pem();
  return out;
}

std::string sha256_hex(const unsigned char* data, std::size_t size) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(data, size, md);
  return common::hex_encode(md, sizeof md);
}

std::string normalize_fingerprint(std::string_view fp) {
  std::string out;
  for (char c : fp) {
    if (c == ':' || c == '-' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

common::TimePoint asn1_time_to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace keystep::crypto
