#include "cli/certificate_summary.h"

#include <array>
#include <utility>

#include "issuer/common/base64.h"
#include "issuer/crypto/key.h"
#include "issuer/policy/time_format.h"

namespace keystep::cli {
namespace {

void free_eku(EXTENDED_KEY_USAGE* eku) { sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free); }
using ExtendedKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, crypto::FreeWith<free_eku>>;

std::vector<std::string> key_usage(X509* x509) {
  static constexpr std::array<std::pair<std::uint32_t, const char*>, 9> kNames{{
      {KU_DIGITAL_SIGNATURE, "Digital Signature"},
      {KU_NON_REPUDIATION, "Content Commitment"},
      {KU_KEY_ENCIPHERMENT, "Key Encipherment"},
      {KU_DATA_ENCIPHERMENT, "Data Encipherment"},
      {KU_KEY_AGREEMENT, "Key Agreement"},
      {KU_KEY_CERT_SIGN, "Certificate Sign"},
      {KU_CRL_SIGN, "CRL Sign"},
      {KU_ENCIPHER_ONLY, "Encipher Only"},
      {KU_DECIPHER_ONLY, "Decipher Only"},
  }};
  std::vector<std::string> out;
  if ((X509_get_extension_flags(x509) & EXFLAG_KUSAGE) == 0) return out;
  const std::uint32_t bits = X509_get_key_usage(x509);
  for (const auto& [bit, name] : kNames) {
    if ((bits & bit) != 0) out.emplace_back(name);
  }
  return out;
}

std::string extended_key_usage_name(const ASN1_OBJECT* object) {
  switch (OBJ_obj2nid(object)) {
    case NID_server_auth:
      return "Server Authentication";
    case NID_client_auth:
      return "Client Authentication";
    case NID_code_sign:
      return "Code Signing";
    case NID_email_protect:
      return "Email Protection";
    case NID_time_stamp:
      return "Time Stamping";
    case NID_OCSP_sign:
      return "OCSP Signing";
    default:
      break;
  }
  std::array<char, 128> oid{};
  OBJ_obj2txt(oid.data(), static_cast<int>(oid.size()), object, /*no_name=*/1);
  return oid.data();
}

std::vector<std::string> extended_key_usage(X509* x509) {
  std::vector<std::string> out;
  ExtendedKeyUsagePtr eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x509, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    out.push_back(extended_key_usage_name(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
  return out;
}

std::string key_id_hex(const ASN1_OCTET_STRING* id) {
  if (id == nullptr) return {};
  return common::hex_encode(ASN1_STRING_get0_data(id), static_cast<std::size_t>(ASN1_STRING_length(id)));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

CertificateSummary summarize(const crypto::Certificate& cert) {
  X509* x509 = cert.get();
  return {
      .subject = cert.subject(),
      .issuer = cert.issuer(),
      .serial_hex = cert.serial_hex(),
      .serial_decimal = cert.serial_decimal(),
      .not_before = policy::format_rfc3339(cert.not_before()),
      .not_after = policy::format_rfc3339(cert.not_after()),
      .public_key = crypto::describe_key(cert.public_key()),
      .is_ca = cert.is_ca(),
      .path_length = cert.is_ca() ? cert.path_length() : -1,
      .key_usage = key_usage(x509),
      .extended_key_usage = extended_key_usage(x509),
      .sans = cert.subject_alt_names(),
      .subject_key_id = key_id_hex(X509_get0_subject_key_id(x509)),
      .authority_key_id = key_id_hex(X509_get0_authority_key_id(x509)),
      .sha256_fingerprint = cert.sha256_hex(),
  };
}

std::string to_text(const CertificateSummary& s) {
  std::string ca = "no";
  if (s.is_ca)
    ca = s.path_length < 0 ? "yes, no path length limit" : "yes, path length " + std::to_string(s.path_length);
  const std::vector<std::pair<const char*, std::string>> lines = {
      {"Subject", s.subject},
      {"Issuer", s.issuer},
      {"Serial number", s.serial_hex + " (" + s.serial_decimal + ")"},
      {"Not before", s.not_before},
      {"Not after", s.not_after},
      {"Public key", s.public_key},
      {"CA", ca},
      {"Key usage", join(s.key_usage)},
      {"Extended key usage", join(s.extended_key_usage)},
      {"DNS names", join(s.sans.dns)},
      {"IP addresses", join(s.sans.ips)},
      {"Email addresses", join(s.sans.emails)},
      {"URIs", join(s.sans.uris)},
      {"Subject key ID", s.subject_key_id},
      {"Authority key ID", s.authority_key_id},
      {"SHA-256 fingerprint", s.sha256_fingerprint},
  };
  std::string out;
  for (const auto& [label, value] : lines) {
    if (value.empty()) continue;
    std::string left = std::string(label) + ":";
    out += left + std::string(left.size() < 21 ? 21 - left.size() : 1, ' ') + value + "\n";
  }
  return out;
}

nlohmann::json to_json(const CertificateSummary& s) {
  return {
      {"subject", s.subject},
      {"issuer", s.issuer},
      {"serial", {{"hex", s.serial_hex}, {"decimal", s.serial_decimal}}},
      {"validity", {{"not_before", s.not_before}, {"not_after", s.not_after}}},
      {"public_key", s.public_key},
      {"is_ca", s.is_ca},
      {"path_length", s.path_length < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.path_length)},
      {"key_usage", s.key_usage},
      {"extended_key_usage", s.extended_key_usage},
      {"sans", {{"dns", s.sans.dns}, {"ip", s.sans.ips}, {"email", s.sans.emails}, {"uri", s.sans.uris}}},
      {"subject_key_id", s.subject_key_id},
      {"authority_key_id", s.authority_key_id},
      {"sha256_fingerprint", s.sha256_fingerprint},
  };
}

}  // namespace keystep::cli
