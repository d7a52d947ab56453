#include "operator/status/event_recorder.h"

#include <random>

#include "issuer/common/log.h"
#include "operator/status/conditions.h"

namespace keystep::kube_status {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("status");
  return logger;
}

constexpr std::chrono::hours kCorrelationWindow{1};
constexpr std::size_t kMaxRemembered = 4096;

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (auto& c : out) c = kHex[rng() % 16];
  return out;
}

std::string field(const nlohmann::json& object, const char* key) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->contains(key) || !(*meta)[key].is_string()) return "";
  return (*meta)[key].get<std::string>();
}

}  // namespace

EventRecorder::EventRecorder(kube::Client& client, const common::Clock& clock, std::string component, std::string host)
    : client_(client), clock_(clock), component_(std::move(component)), host_(std::move(host)) {}

void EventRecorder::record(const nlohmann::json& object, EventType type, const std::string& reason,
                           const std::string& message) {
  const auto now = clock_.now();
  const std::string object_ns = field(object, "namespace");
  const std::string event_ns = object_ns.empty() ? "default" : object_ns;
  const std::string uid = field(object, "uid");
  const std::string correlation = uid + "\n" + reason + "\n" + message;
  std::unique_lock lock(mu_);
  if (auto it = seen_.find(correlation); it != seen_.end() && now - it->second.last < kCorrelationWindow) {
    Seen seen = it->second;
    seen.count += 1;
    seen.last = now;
    it->second = seen;
    lock.unlock();
    auto patched = client_.merge_patch(kube::resources::kEvents, {seen.ns, seen.name},
                                       {{"count", seen.count}, {"lastTimestamp", format_time(now)}});
    if (patched) return;
    log()->debug("event count update failed name={} error=\"{}\"", seen.name, patched.error().message);
    lock.lock();
    seen_.erase(correlation);  // create a fresh one below
  }
  if (seen_.size() >= kMaxRemembered) seen_.clear();
  const std::string name = field(object, "name") + "." + random_suffix();
  seen_[correlation] = Seen{event_ns, name, 1, now};
  lock.unlock();

  nlohmann::json involved = {{"apiVersion", object.value("apiVersion", "")},
                             {"kind", object.value("kind", "")},
                             {"name", field(object, "name")},
                             {"uid", uid},
                             {"resourceVersion", field(object, "resourceVersion")}};
  if (!object_ns.empty()) involved["namespace"] = object_ns;
  nlohmann::json event = {{"apiVersion", "v1"},
                          {"kind", "Event"},
                          {"metadata", {{"name", name}, {"namespace", event_ns}}},
                          {"involvedObject", involved},
                          {"reason", reason},
                          {"message", message},
                          {"type", type == EventType::normal ? "Normal" : "Warning"},
                          {"source", {{"component", component_}, {"host", host_}}},
                          {"reportingComponent", component_},
                          {"reportingInstance", host_},
                          {"firstTimestamp", format_time(now)},
                          {"lastTimestamp", format_time(now)},
                          {"count", 1}};
  if (auto created = client_.create(kube::resources::kEvents, event_ns, event); !created) {
    log()->debug("event not recorded reason={} error=\"{}\"", reason, created.error().message);
    std::lock_guard again(mu_);
    seen_.erase(correlation);
  }
}

}  // namespace keystep::kube_status
