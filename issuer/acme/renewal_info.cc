#include "issuer/acme/renewal_info.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::acme {

std::string authority_key_identifier(const crypto::Certificate& certificate) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(certificate.get());
  if (aki == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                     static_cast<std::size_t>(ASN1_STRING_length(aki)));
}

std::string cert_id(const crypto::Certificate& certificate) {
  const std::string aki = authority_key_identifier(certificate);
  if (aki.empty()) return "";
  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate.get());
  // The DER INTEGER content: i2d gives tag, length, content.
  int size = i2d_ASN1_INTEGER(serial, nullptr);
  if (size <= 2) return "";
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ASN1_INTEGER(serial, &p);
  const std::size_t header = (static_cast<unsigned char>(der[1]) & 0x80) != 0 ? 2 + (der[1] & 0x7f) : 2;
  return common::base64url_encode(aki) + "." + common::base64url_encode(std::string_view(der).substr(header));
}

std::optional<CertId> parse_cert_id(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size()) return std::nullopt;
  auto aki = common::base64url_decode(text.substr(0, dot));
  auto serial = common::base64url_decode(text.substr(dot + 1));
  if (!aki || !serial || aki->empty() || serial->empty() || serial->size() > 20) return std::nullopt;
  if (((*serial)[0] & 0x80) != 0) return std::nullopt;  // negative
  crypto::BignumPtr bn(BN_bin2bn(serial->data(), static_cast<int>(serial->size()), nullptr));
  if (!bn) return std::nullopt;
  crypto::OpensslStringPtr decimal(BN_bn2dec(bn.get()));
  if (!decimal) return std::nullopt;
  return CertId{common::to_string(*aki), decimal.get()};
}

RenewalWindow suggested_window(common::TimePoint not_before, common::TimePoint not_after, bool revoked,
                               common::TimePoint now) {
  if (revoked) return {now - std::chrono::hours(1), now};
  const auto lifetime = not_after - not_before;
  return {not_before + lifetime * 2 / 3, not_before + lifetime * 5 / 6};
}

}  // namespace keystep::acme
