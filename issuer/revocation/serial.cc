#include "issuer/revocation/serial.h"

#include <algorithm>
#include <cctype>

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

Result<std::string> normalize_serial(std::string_view serial) {
  const bool is_hex = serial.size() > 2 && serial[0] == '0' && (serial[1] == 'x' || serial[1] == 'X');
  const std::string digits(is_hex ? serial.substr(2) : serial);
  auto is_digit = [is_hex](unsigned char c) { return is_hex ? std::isxdigit(c) != 0 : std::isdigit(c) != 0; };
  if (digits.empty() || serial.size() > kMaxSerialInput || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return fail(Errc::invalid_argument,
                "\"" + std::string(serial.substr(0, kMaxSerialInput)) +
                    "\" is not a serial number: use decimal digits, or hex digits after 0x");
  }
  BIGNUM* raw = nullptr;
  const int parsed = is_hex ? BN_hex2bn(&raw, digits.c_str()) : BN_dec2bn(&raw, digits.c_str());
  crypto::BignumPtr bn(raw);
  if (!bn || parsed != static_cast<int>(digits.size())) {
    return crypto::openssl_error(Errc::invalid_argument, "cannot read serial number \"" + std::string(serial) + "\"");
  }
  crypto::OpensslStringPtr decimal(BN_bn2dec(bn.get()));
  if (!decimal) return crypto::openssl_error(Errc::internal, "cannot print a serial number in decimal");
  return std::string(decimal.get());
}

}  // namespace keystep::revocation
