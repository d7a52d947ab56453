#include "issuer/common/duration.h"

#include <cstdint>
#include <limits>

namespace keystep::common {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
};

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  const std::string original(text);
  auto bad = [&] { return fail(Errc::invalid_argument, "invalid duration \"" + original + "\""); };
  if (text.empty()) return bad();
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return Duration::zero();
  if (text.empty()) return bad();
  long double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      ++i;
      digits = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return bad();
    text.remove_prefix(i);
    std::size_t unit_len = 0;
    while (unit_len < text.size() && !(text[unit_len] >= '0' && text[unit_len] <= '9') &&
           text[unit_len] != '.') {
      ++unit_len;
    }
    std::string_view unit_name = text.substr(0, unit_len);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return fail(Errc::invalid_argument, "invalid duration \"" + original +
                                              "\": missing or unknown unit (use ns, us, ms, s, m, h, d)");
    }
    text.remove_prefix(unit_len);
    total += value * static_cast<long double>(unit->nanos);
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
      return fail(Errc::invalid_argument, "invalid duration \"" + original + "\": out of range");
    }
  }
  auto nanos = static_cast<std::int64_t>(total + 0.5L);
  return Duration(negative ? -nanos : nanos);
}

std::string format_duration(Duration d) {
  std::int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  std::uint64_t u = n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  auto frac = [](std::uint64_t v, std::uint64_t unit) {
    std::string whole = std::to_string(v / unit);
    std::uint64_t rest = v % unit;
    if (rest == 0) return whole;
    std::string digits;
    for (std::uint64_t scale = unit / 10; scale > 0; scale /= 10) {
      digits += static_cast<char>('0' + (rest / scale) % 10);
    }
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return whole + "." + digits;
  };
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + frac(u, 1'000) + "\xC2\xB5s";
  if (u < 1'000'000'000) return sign + frac(u, 1'000'000) + "ms";
  std::uint64_t hours = u / 3'600'000'000'000ULL;
  u %= 3'600'000'000'000ULL;
  std::uint64_t minutes = u / 60'000'000'000ULL;
  u %= 60'000'000'000ULL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += frac(u, 1'000'000'000) + "s";
  return out;
}

}  // namespace keystep::common
