#include "issuer/policy/dns_name.h"

namespace keystep::policy {
namespace {

constexpr std::size_t kMaxLabelLength = 63;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

bool is_all_digits(std::string_view label) {
  for (char c : label) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  std::string_view last;
  while (true) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (!is_valid_label(label)) return false;
    last = label;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return !is_all_digits(last);
}

std::optional<DomainPattern> DomainPattern::parse(std::string_view text) {
  DomainPattern pattern;
  if (text.starts_with("*.")) {
    pattern.is_wildcard = true;
    text.remove_prefix(2);
    // "*." plus the base must itself fit in a DNS name.
    if (text.size() + 2 > kMaxDnsNameLength) return std::nullopt;
  }
  if (!is_valid_hostname(text)) return std::nullopt;
  pattern.base = to_lower_ascii(text);
  return pattern;
}

bool DomainPattern::matches(std::string_view lower_name) const {
  if (!is_wildcard) return lower_name == base;
  if (lower_name.size() < base.size() + 2 || !lower_name.ends_with(base)) return false;
  const std::string_view label = lower_name.substr(0, lower_name.size() - base.size());
  // label is "<one label>." : non-empty and exactly one dot, at its end.
  return label.back() == '.' && label.find('.') == label.size() - 1;
}

}  // namespace keystep::policy
