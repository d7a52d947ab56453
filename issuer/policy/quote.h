#pragma once
// quote() renders untrusted text for an error message like Go's %q: in double
// quotes, with '"', '\\' and bytes outside printable ASCII escaped, so a name
// cannot forge log lines or terminal escapes. Text longer than kMaxQuoted
// bytes is cut and marked with "...".

#include <string>
#include <string_view>

namespace keystep::policy {

inline constexpr std::size_t kMaxQuoted = 256;

[[nodiscard]] std::string quote(std::string_view text);

}  // namespace keystep::policy
