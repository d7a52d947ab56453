#pragma once
// PEM block splitting for bundles (chains, roots files).

#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::crypto {

struct PemBlock {
  std::string label;  // "CERTIFICATE", "CERTIFICATE REQUEST", ...
  std::string text;   // the whole block, BEGIN to END line, ending in '\n'
};

// split_pem returns the PEM blocks of `text` in order, at most `max_blocks`;
// text between blocks is ignored.
[[nodiscard]] Result<std::vector<PemBlock>> split_pem(std::string_view text, std::size_t max_blocks = 16);

// pem_encode wraps DER in a PEM block with 64-column lines.
[[nodiscard]] std::string pem_encode(std::string_view label, const unsigned char* der, std::size_t size);

}  // namespace keystep::crypto
