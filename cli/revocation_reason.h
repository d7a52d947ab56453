#pragma once
// The RFC 5280 §5.3.1 CRLReason codes by the names step and RFC 5280 use
// ("keyCompromise" is 1), for `keystep ca revoke --reason-name`. Code 7 is
// unused by the RFC and has no name.

#include <optional>
#include <string>
#include <string_view>

namespace keystep::cli {

// reason_code_by_name matches the name exactly (camelCase as in the RFC).
[[nodiscard]] std::optional<int> reason_code_by_name(std::string_view name);

// reason_names lists every name with its code: "unspecified (0), keyCompromise (1), ...".
[[nodiscard]] std::string reason_names();

}  // namespace keystep::cli
