#include "issuer/policy/quote.h"

namespace keystep::policy {

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool is_cut = text.size() > kMaxQuoted;
  if (is_cut) text = text.substr(0, kMaxQuoted);
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
  if (is_cut) out += "...";
  return out;
}

}  // namespace keystep::policy
