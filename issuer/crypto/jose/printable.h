#pragma once
// printable quotes an untrusted string (a token's alg, a JWK's crv) for an
// error message: at most 32 characters, anything outside printable ASCII
// replaced by '?', so a hostile value cannot bloat or forge log lines.

#include <cstddef>
#include <string>
#include <string_view>

namespace keystep::jose::detail {

[[nodiscard]] inline std::string printable(std::string_view text) {
  constexpr std::size_t kMaxChars = 32;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxChars; ++i) {
    char c = text[i];
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  if (text.size() > kMaxChars) out += "...";
  out += '"';
  return out;
}

}  // namespace keystep::jose::detail
