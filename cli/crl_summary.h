#pragma once
// CrlSummary is what `keystep ca crl` reports of a CRL it downloaded: the
// CRL number, how many certificates it lists and when it is next updated.
// read_crl parses DER or PEM ("X509 CRL"); it does not check the signature.

#include <optional>
#include <string>
#include <string_view>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"

namespace keystep::cli {

struct CrlSummary {
  std::string number;  // decimal CRL number; "" when the CRL has none
  std::size_t entries = 0;
  common::TimePoint this_update;
  std::optional<common::TimePoint> next_update;
};

// kMaxCrlBytes bounds what read_crl parses: a CA's CRL is far smaller.
inline constexpr std::size_t kMaxCrlBytes = std::size_t{16} << 20;

[[nodiscard]] Result<CrlSummary> read_crl(std::string_view bytes, bool is_pem);

}  // namespace keystep::cli
