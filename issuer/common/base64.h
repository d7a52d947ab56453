#pragma once
// Base64 in the two alphabets PKI needs: standard with padding (PEM, JSON
// []byte, x5c) and URL-safe without padding (JOSE, RFC 7515 §2).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::common {

using Bytes = std::vector<std::uint8_t>;

[[nodiscard]] std::string base64url_encode(const std::uint8_t* data, std::size_t size);
[[nodiscard]] std::string base64url_encode(std::string_view data);
[[nodiscard]] inline std::string base64url_encode(const Bytes& data) {
  return base64url_encode(data.data(), data.size());
}
// base64url_decode accepts unpadded input only, as JOSE requires.
[[nodiscard]] Result<Bytes> base64url_decode(std::string_view text);

[[nodiscard]] std::string base64_encode(const std::uint8_t* data, std::size_t size);
[[nodiscard]] inline std::string base64_encode(const Bytes& data) {
  return base64_encode(data.data(), data.size());
}
[[nodiscard]] Result<Bytes> base64_decode(std::string_view text);

[[nodiscard]] std::string hex_encode(const std::uint8_t* data, std::size_t size);
[[nodiscard]] inline std::string hex_encode(const Bytes& data) {
  return hex_encode(data.data(), data.size());
}

[[nodiscard]] inline std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }
[[nodiscard]] inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

}  // namespace keystep::common
