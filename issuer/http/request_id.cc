#include "issuer/http/request_id.h"

#include <array>
#include <cstdint>
#include <random>

#include <openssl/rand.h>

namespace keystep::http {

std::string new_uuid_v4() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // An id needs uniqueness, not secrecy: fall back rather than fail the
    // request when the DRBG is unavailable.
    thread_local std::mt19937_64 fallback{std::random_device{}()};
    for (std::size_t i = 0; i < b.size(); i += 8) {
      std::uint64_t v = fallback();
      for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<unsigned char>(v >> (8 * j));
    }
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace keystep::http
