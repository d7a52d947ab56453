#include "issuer/crypto/pem.h"

#include "issuer/common/base64.h"

namespace keystep::crypto {

Result<std::vector<PemBlock>> split_pem(std::string_view text, std::size_t max_blocks) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "-----END ";
  std::vector<PemBlock> blocks;
  std::size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    std::size_t label_start = pos + kBegin.size();
    std::size_t label_end = text.find("-----", label_start);
    if (label_end == std::string_view::npos) return fail(Errc::invalid_argument, "truncated PEM header");
    std::string label(text.substr(label_start, label_end - label_start));
    std::string end_marker = std::string(kEnd) + label + "-----";
    std::size_t end = text.find(end_marker, label_end);
    if (end == std::string_view::npos) return fail(Errc::invalid_argument, "PEM block " + label + " has no END line");
    end += end_marker.size();
    if (blocks.size() == max_blocks) {
      return fail(Errc::invalid_argument, "more than " + std::to_string(max_blocks) + " PEM blocks");
    }
    blocks.push_back({label, std::string(text.substr(pos, end - pos)) + "\n"});
    pos = end;
  }
  return blocks;
}

std::string pem_encode(std::string_view label, const unsigned char* der, std::size_t size) {
  std::string b64 = common::base64_encode(der, size);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

}  // namespace keystep::crypto
