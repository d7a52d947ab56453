#include "cli/serial_number.h"

#include <algorithm>
#include <cctype>

#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::cli {

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

}  // namespace keystep::cli
