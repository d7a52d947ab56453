#include "cli/crl_summary.h"

#include <openssl/pem.h>

#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::cli {
namespace {

std::string integer_to_decimal(const ASN1_INTEGER* value) {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(value, nullptr));
  if (!bn) return "";
  crypto::OpensslStringPtr text(BN_bn2dec(bn.get()));
  return text ? std::string(text.get()) : std::string();
}

}  // namespace

Result<CrlSummary> read_crl(std::string_view bytes, bool is_pem) {
  if (bytes.size() > kMaxCrlBytes) return fail(Errc::invalid_argument, "the CRL is larger than 16 MiB");
  crypto::X509CrlPtr crl;
  if (is_pem) {
    crypto::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* der = reinterpret_cast<const unsigned char*>(bytes.data());
    crl.reset(d2i_X509_CRL(nullptr, &der, static_cast<long>(bytes.size())));
  }
  if (!crl) return crypto::openssl_error(Errc::invalid_argument, is_pem ? "not a PEM CRL" : "not a DER CRL");
  CrlSummary summary;
  int critical = 0;
  crypto::Asn1IntegerPtr number(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &critical, nullptr)));
  if (number) summary.number = integer_to_decimal(number.get());
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  summary.entries = revoked == nullptr ? 0 : static_cast<std::size_t>(sk_X509_REVOKED_num(revoked));
  summary.this_update = crypto::asn1_time_to_time_point(X509_CRL_get0_lastUpdate(crl.get()));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get()); next != nullptr) {
    summary.next_update = crypto::asn1_time_to_time_point(next);
  }
  (void)crypto::drain_openssl_errors();  // a missing extension may leave a reason queued
  return summary;
}

}  // namespace keystep::cli
