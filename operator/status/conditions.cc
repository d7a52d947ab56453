#include "operator/status/conditions.h"

#include <cstdio>
#include <ctime>

namespace keystep::kube_status {
namespace {

const nlohmann::json* conditions_of(const nlohmann::json& object) {
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return nullptr;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return nullptr;
  return &*conditions;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<Condition> find_condition(const nlohmann::json& object, const std::string& type) {
  const auto* conditions = conditions_of(object);
  if (conditions == nullptr) return std::nullopt;
  for (const auto& c : *conditions) {
    if (!c.is_object() || string_field(c, "type") != type) continue;
    Condition out{type, string_field(c, "status"), string_field(c, "reason"), string_field(c, "message"), {}};
    if (auto g = c.find("observedGeneration"); g != c.end() && g->is_number_integer()) {
      out.observed_generation = g->get<std::int64_t>();
    }
    return out;
  }
  return std::nullopt;
}

bool is_condition_true(const nlohmann::json& object, const std::string& type) {
  auto c = find_condition(object, type);
  return c && c->status == "True";
}

nlohmann::json with_condition(const nlohmann::json& conditions, const Condition& c, common::TimePoint now) {
  nlohmann::json out = conditions.is_array() ? conditions : nlohmann::json::array();
  nlohmann::json entry = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message},
                          {"lastTransitionTime", format_time(now)}};
  if (c.observed_generation) entry["observedGeneration"] = *c.observed_generation;
  for (auto& existing : out) {
    if (!existing.is_object() || string_field(existing, "type") != c.type) continue;
    if (string_field(existing, "status") == c.status && existing.contains("lastTransitionTime")) {
      entry["lastTransitionTime"] = existing["lastTransitionTime"];
    }
    existing = std::move(entry);
    return out;
  }
  out.push_back(std::move(entry));
  return out;
}

bool same_condition(const nlohmann::json& object, const Condition& c) {
  auto existing = find_condition(object, c.type);
  return existing && existing->status == c.status && existing->reason == c.reason &&
         existing->message == c.message && existing->observed_generation == c.observed_generation;
}

std::string format_time(common::TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_micro_time(common::TimePoint t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06dZ", static_cast<int>(micros % 1000000));
  return std::string(buf) + fraction;
}

std::optional<common::TimePoint> parse_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::string_view rest(text.c_str() + consumed);
  std::chrono::microseconds fraction{0};
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    long long value = 0;
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 6) {
        value = value * 10 + (rest.front() - '0');
        ++digits;
      }
      rest.remove_prefix(1);
    }
    while (digits < 6) {
      value *= 10;
      ++digits;
    }
    fraction = std::chrono::microseconds(value);
  }
  if (rest != "Z") return std::nullopt;
  std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs) + fraction;
}

}  // namespace keystep::kube_status
