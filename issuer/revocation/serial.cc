#include "issuer/revocation/serial.h"

#include <algorithm>

#include "issuer/crypto/openssl_error.h"

namespace keystep::revocation {

Result<crypto::Asn1IntegerPtr> decimal_to_asn1_integer(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > kMaxSerialDigits ||
      !std::all_of(decimal.begin(), decimal.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(Errc::invalid_argument,
                "serial '" + std::string(decimal.substr(0, kMaxSerialDigits)) + "' is not a decimal number");
  }
  const std::string text(decimal);  // BN_dec2bn wants a NUL-terminated string
  BIGNUM* raw = nullptr;
  const int parsed = BN_dec2bn(&raw, text.c_str());
  crypto::BignumPtr bn(raw);
  if (!bn || parsed != static_cast<int>(text.size())) {
    return crypto::openssl_error(Errc::invalid_argument, "serial '" + text + "' is not a decimal number");
  }
  crypto::Asn1IntegerPtr integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!integer) return crypto::openssl_error(Errc::internal, "encoding serial");
  return integer;
}

std::string asn1_integer_to_decimal(const ASN1_INTEGER* value) {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(value, nullptr));
  if (!bn) {
    (void)crypto::drain_openssl_errors();  // reported to the caller as ""
    return "";
  }
  crypto::OpensslStringPtr text(BN_bn2dec(bn.get()));
  if (!text) {
    (void)crypto::drain_openssl_errors();  // reported to the caller as ""
    return "";
  }
  return text.get();
}

}  // namespace keystep::revocation
