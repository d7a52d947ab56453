#include "issuer/revocation/crl.h"

#include <algorithm>
#include <set>

#include "issuer/common/base64.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/revocation/asn1_time.h"
#include "issuer/revocation/reason_code.h"
#include "issuer/revocation/serial.h"

namespace keystep::revocation {
namespace {

using crypto::openssl_error;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, crypto::FreeWith<X509_REVOKED_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, crypto::FreeWith<ASN1_ENUMERATED_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, crypto::FreeWith<AUTHORITY_KEYID_free>>;
using IssuingDistPointPtr = std::unique_ptr<ISSUING_DIST_POINT, crypto::FreeWith<ISSUING_DIST_POINT_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, crypto::FreeWith<GENERAL_NAME_free>>;

Status validate_idp_url(const std::string& url) {
  const bool is_plain_ascii =
      std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (url.size() > kMaxIdpUrlBytes || !is_plain_ascii || url.find("://") == std::string::npos) {
    return fail(Errc::invalid_argument, "crl idp url must be an absolute ASCII URI without spaces");
  }
  return ok();
}

Result<X509RevokedPtr> make_entry(const storage::RevocationRecord& record, std::set<std::string>& seen) {
  auto serial = decimal_to_asn1_integer(record.serial);
  if (!serial) return tl::unexpected(serial.error());
  // Normalise ("007" and "7" are one serial) before looking for duplicates.
  const std::string normalised = asn1_integer_to_decimal(serial->get());
  if (!seen.insert(normalised).second) {
    return fail(Errc::invalid_argument, "serial " + normalised + " is listed twice");
  }
  if (!is_valid_reason_code(record.reason_code)) {
    return fail(Errc::invalid_argument, "serial " + normalised + " has reason code " +
                                            std::to_string(record.reason_code) + ", not one of RFC 5280's");
  }
  auto revoked_at = to_asn1_time(record.revoked_at);
  if (!revoked_at) return tl::unexpected(revoked_at.error());

  X509RevokedPtr entry(X509_REVOKED_new());
  if (!entry || X509_REVOKED_set_serialNumber(entry.get(), serial->get()) != 1 ||
      X509_REVOKED_set_revocationDate(entry.get(), revoked_at->get()) != 1) {
    return openssl_error(Errc::internal, "building a crl entry");
  }
  if (record.reason_code != 0) {  // RFC 5280 §5.3.1: omit rather than say unspecified
    Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
    if (!reason || ASN1_ENUMERATED_set(reason.get(), record.reason_code) != 1 ||
        X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, reason.get(), 0, 0) != 1) {
      return openssl_error(Errc::internal, "adding a crl reason code");
    }
  }
  return entry;
}

Status add_authority_key_id(X509_CRL* crl, const crypto::Certificate& issuer) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(issuer.get());  // borrowed
  if (ski == nullptr) {
    return fail(Errc::failed_precondition, "the intermediate has no subject key identifier to name it in the crl");
  }
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  if (!aki) return openssl_error(Errc::internal, "allocating an authority key identifier");
  aki->keyid = ASN1_OCTET_STRING_dup(ski);  // owned by aki from here
  if (aki->keyid == nullptr || X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki.get(), 0, 0) != 1) {
    return openssl_error(Errc::internal, "adding the authority key identifier");
  }
  return ok();
}

Status add_issuing_distribution_point(X509_CRL* crl, const std::string& url) {
  IssuingDistPointPtr idp(ISSUING_DIST_POINT_new());
  if (!idp) return openssl_error(Errc::internal, "allocating an issuing distribution point");
  idp->distpoint = DIST_POINT_NAME_new();  // each new part is owned by its parent at once
  if (idp->distpoint == nullptr) return openssl_error(Errc::internal, "allocating a distribution point name");
  idp->distpoint->type = 0;  // fullName
  idp->distpoint->name.fullname = GENERAL_NAMES_new();
  if (idp->distpoint->name.fullname == nullptr) return openssl_error(Errc::internal, "allocating general names");

  GeneralNamePtr name(GENERAL_NAME_new());
  ASN1_IA5STRING* uri = ASN1_IA5STRING_new();
  if (!name || uri == nullptr || ASN1_STRING_set(uri, url.data(), static_cast<int>(url.size())) != 1) {
    ASN1_IA5STRING_free(uri);  // accepts nullptr
    return openssl_error(Errc::internal, "encoding the idp url");
  }
  GENERAL_NAME_set0_value(name.get(), GEN_URI, uri);  // name owns uri
  if (sk_GENERAL_NAME_push(idp->distpoint->name.fullname, name.get()) <= 0) {
    return openssl_error(Errc::internal, "adding the idp url");
  }
  (void)name.release();  // owned by the stack now
  if (X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp.get(), 1, 0) != 1) {
    return openssl_error(Errc::internal, "adding the issuing distribution point");
  }
  return ok();
}

Status set_number(X509_CRL* crl, std::int64_t number) {
  crypto::Asn1IntegerPtr value(ASN1_INTEGER_new());
  if (!value || ASN1_INTEGER_set_int64(value.get(), number) != 1 ||
      X509_CRL_add1_ext_i2d(crl, NID_crl_number, value.get(), 0, 0) != 1) {
    return openssl_error(Errc::internal, "adding the crl number");
  }
  return ok();
}

std::string to_der(X509_CRL* crl) {
  unsigned char* raw = nullptr;
  const int len = i2d_X509_CRL(crl, &raw);
  crypto::OpensslStringPtr owned(reinterpret_cast<char*>(raw));
  if (len <= 0) return "";
  return std::string(owned.get(), static_cast<std::size_t>(len));
}

}  // namespace

Result<std::string> build_crl(const signing::CertificateAuthority& ca,
                              const std::vector<storage::RevocationRecord>& revoked, std::int64_t crl_number,
                              common::TimePoint this_update, std::chrono::seconds validity,
                              const std::string& idp_url) {
  if (crl_number < 0) return fail(Errc::invalid_argument, "crl number must not be negative");
  if (validity <= std::chrono::seconds::zero()) return fail(Errc::invalid_argument, "crl validity must be positive");
  if (!idp_url.empty()) {
    if (auto valid = validate_idp_url(idp_url); !valid) return tl::unexpected(valid.error());
  }
  const crypto::Certificate& issuer = ca.intermediate();
  if ((X509_get_key_usage(issuer.get()) & KU_CRL_SIGN) == 0) {
    return fail(Errc::failed_precondition, "the intermediate's key usage does not include cRLSign");
  }

  crypto::X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())) != 1) {
    return openssl_error(Errc::internal, "starting a crl");
  }
  const auto this_second = std::chrono::floor<std::chrono::seconds>(this_update);
  auto last = to_asn1_time(this_second);
  if (!last) return tl::unexpected(last.error());
  auto next = to_asn1_time(this_second + validity);
  if (!next) return tl::unexpected(next.error());
  if (X509_CRL_set1_lastUpdate(crl.get(), last->get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next->get()) != 1) {
    return openssl_error(Errc::internal, "setting crl times");
  }

  std::set<std::string> seen;
  for (const auto& record : revoked) {
    auto entry = make_entry(record, seen);
    if (!entry) return tl::unexpected(entry.error());
    if (X509_CRL_add0_revoked(crl.get(), entry->get()) != 1) {
      return openssl_error(Errc::internal, "adding a crl entry");
    }
    (void)entry->release();  // owned by the crl now
  }

  if (auto s = set_number(crl.get(), crl_number); !s) return tl::unexpected(s.error());
  if (auto s = add_authority_key_id(crl.get(), issuer); !s) return tl::unexpected(s.error());
  if (!idp_url.empty()) {
    if (auto s = add_issuing_distribution_point(crl.get(), idp_url); !s) return tl::unexpected(s.error());
  }

  // signature_digest is nullptr for Ed25519, which signs the message itself.
  if (X509_CRL_sign(crl.get(), ca.key(), crypto::signature_digest(ca.key())) <= 0) {
    return openssl_error(Errc::internal, "signing the crl");
  }
  std::string der = to_der(crl.get());
  if (der.empty()) return openssl_error(Errc::internal, "encoding the crl");
  return der;
}

std::string crl_to_pem(std::string_view der) {
  const std::string body =
      common::base64_encode(reinterpret_cast<const std::uint8_t*>(der.data()), der.size());
  std::string pem = "-----BEGIN X509 CRL-----\n";
  for (std::size_t i = 0; i < body.size(); i += 64) {
    pem.append(body, i, 64);
    pem += '\n';
  }
  pem += "-----END X509 CRL-----\n";
  return pem;
}

Result<CrlInfo> parse_crl(std::string_view der) {
  if (der.size() > kMaxCrlBytes) return fail(Errc::invalid_argument, "crl larger than 64 MiB");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) return openssl_error(Errc::invalid_argument, "not a DER crl");

  CrlInfo info;
  info.version = X509_CRL_get_version(crl.get());
  {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), X509_CRL_get_issuer(crl.get()), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len > 0) info.issuer.assign(data, static_cast<std::size_t>(len));
  }
  info.this_update = crypto::asn1_time_to_time_point(X509_CRL_get0_lastUpdate(crl.get()));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get()); next != nullptr) {
    info.next_update = crypto::asn1_time_to_time_point(next);
  }
  if (crypto::Asn1IntegerPtr number(
          static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
      number) {
    std::int64_t value = 0;
    if (ASN1_INTEGER_get_int64(&value, number.get()) == 1) info.number = value;
  }
  if (AuthorityKeyIdPtr aki(static_cast<AUTHORITY_KEYID*>(
          X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, nullptr, nullptr)));
      aki && aki->keyid != nullptr) {
    info.authority_key_id_hex = common::hex_encode(ASN1_STRING_get0_data(aki->keyid),
                                                   static_cast<std::size_t>(ASN1_STRING_length(aki->keyid)));
  }
  int critical = 0;
  if (IssuingDistPointPtr idp(static_cast<ISSUING_DIST_POINT*>(
          X509_CRL_get_ext_d2i(crl.get(), NID_issuing_distribution_point, &critical, nullptr)));
      idp) {
    info.is_idp_critical = critical == 1;
    if (idp->distpoint != nullptr && idp->distpoint->type == 0) {
      GENERAL_NAMES* names = idp->distpoint->name.fullname;  // borrowed from idp
      for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        int type = 0;
        const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type));
        if (type == GEN_URI) {
          info.idp_url = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                     static_cast<std::size_t>(ASN1_STRING_length(value)));
          break;
        }
      }
    }
  }
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());  // borrowed
  for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
    CrlEntry out;
    out.serial = asn1_integer_to_decimal(X509_REVOKED_get0_serialNumber(entry));
    out.revoked_at = crypto::asn1_time_to_time_point(X509_REVOKED_get0_revocationDate(entry));
    if (Asn1EnumeratedPtr reason(
            static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
        reason) {
      out.reason_code = static_cast<int>(ASN1_ENUMERATED_get(reason.get()));
    }
    info.entries.push_back(std::move(out));
  }
  (void)crypto::drain_openssl_errors();  // absent extensions leave nothing worth reporting
  return info;
}

}  // namespace keystep::revocation
