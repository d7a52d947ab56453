#include "cli/revocation_reason.h"

#include <array>
#include <utility>

namespace keystep::cli {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 10> kReasons = {{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"cACompromise", 2},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
    {"certificateHold", 6},
    {"removeFromCRL", 8},
    {"privilegeWithdrawn", 9},
    {"aACompromise", 10},
}};

}  // namespace

std::optional<int> reason_code_by_name(std::string_view name) {
  for (const auto& [reason, code] : kReasons) {
    if (reason == name) return code;
  }
  return std::nullopt;
}

std::string reason_names() {
  std::string out;
  for (const auto& [reason, code] : kReasons) {
    out += (out.empty() ? "" : ", ") + std::string(reason) + " (" + std::to_string(code) + ")";
  }
  return out;
}

}  // namespace keystep::cli
