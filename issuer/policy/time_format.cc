#include "issuer/policy/time_format.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "issuer/policy/quote.h"

namespace keystep::policy {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr std::size_t kMaxRfc3339Length = 64;

// Reads exactly n digits at text[pos...]; false if any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string format_rfc3339(common::TimePoint t) {
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(secs - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<common::TimePoint> parse_rfc3339(std::string_view text) {
  auto bad = [&] { return fail(Errc::invalid_argument, "invalid RFC 3339 time " + quote(text)); };
  if (text.size() > kMaxRfc3339Length) return bad();
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
      text[10] != 'T' || !read_digits(text, 11, 2, hour) || text[13] != ':' ||
      !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second)) {
    return bad();
  }
  std::size_t pos = 19;
  std::int64_t fraction_nanos = 0;
  if (text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction_nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int offset_minutes = 0;
  const std::string_view zone = text.substr(pos);
  if (zone != "Z") {
    int offset_hours = 0, offset_mins = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        !read_digits(zone, 1, 2, offset_hours) || zone[3] != ':' ||
        !read_digits(zone, 4, 2, offset_mins) || offset_hours > 23 || offset_mins > 59) {
      return bad();
    }
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (offset_hours * 60 + offset_mins);
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return bad();

  // Whole seconds first, in 64 bits, so far-off years cannot overflow.
  const std::int64_t secs = std::chrono::sys_days(ymd).time_since_epoch().count() * 86'400LL +
                            hour * 3'600LL + minute * 60LL + second - offset_minutes * 60LL;
  constexpr std::int64_t kMinSecs =
      floor<seconds>(common::TimePoint::min()).time_since_epoch().count() + 1;
  constexpr std::int64_t kMaxSecs =
      floor<seconds>(common::TimePoint::max()).time_since_epoch().count() - 1;
  if (secs < kMinSecs || secs > kMaxSecs) {
    return fail(Errc::invalid_argument, "RFC 3339 time " + quote(text) + " is out of range");
  }
  return common::TimePoint(std::chrono::duration_cast<common::TimePoint::duration>(
      seconds(secs) + nanoseconds(fraction_nanos)));
}

}  // namespace keystep::policy
