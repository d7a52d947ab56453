#include "operator/kube/informer.h"

#include <algorithm>

#include "issuer/common/log.h"
#include "operator/kube/watch_event.h"

namespace keystep::kube {
namespace {

using Clock = std::chrono::steady_clock;

// A watch that ends this quickly without an event is treated like a
// failure, so a server closing watches at once cannot make us spin.
constexpr std::chrono::seconds kMinHealthyWatch{1};

std::chrono::milliseconds doubled(std::chrono::milliseconds d, std::chrono::milliseconds max) {
  return std::min(d * 2, max);
}

// changed compares resourceVersions, or whole objects when one has none.
bool changed(const nlohmann::json& before, const nlohmann::json& after) {
  std::string old_rv = resource_version_of(before);
  std::string new_rv = resource_version_of(after);
  if (old_rv.empty() || new_rv.empty()) return before != after;
  return old_rv != new_rv;
}

}  // namespace

struct Informer::Change {
  InformerEvent::Type type;
  ObjectKey key;
  std::optional<nlohmann::json> old_object;
  std::optional<nlohmann::json> object;
};

ObjectKey key_of(const nlohmann::json& object) {
  ObjectKey key;
  if (!object.is_object()) return key;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return key;
  if (auto ns = metadata->find("namespace"); ns != metadata->end() && ns->is_string()) key.ns = ns->get<std::string>();
  if (auto name = metadata->find("name"); name != metadata->end() && name->is_string()) {
    key.name = name->get<std::string>();
  }
  return key;
}

Informer::Informer(Client& client, ResourceType type, InformerOptions options)
    : client_(client), type_(std::move(type)), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::add_handler(Handler handler) { handlers_.push_back(std::move(handler)); }

void Informer::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

bool Informer::has_synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

std::optional<nlohmann::json> Informer::get(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Informer::list() const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  out.reserve(cache_.size());
  for (const auto& [key, object] : cache_) out.push_back(object);
  return out;
}

bool Informer::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void Informer::emit(const InformerEvent& event) {
  for (const auto& handler : handlers_) {
    try {
      handler(event);
    } catch (const std::exception& e) {
      // A throwing handler must not stop the cache; the next resync or
      // change reports the object again.
      common::logger("kube")->error("informer handler failed resource={} name={} error={}", type_.plural,
                                    event.key.str(), e.what());
    }
  }
}

void Informer::emit(const std::vector<Change>& changes) {
  for (const auto& c : changes) {
    emit(InformerEvent{c.type, c.key, c.old_object ? &*c.old_object : nullptr, c.object ? &*c.object : nullptr});
  }
}

void Informer::replace(std::vector<nlohmann::json> items) {
  std::map<ObjectKey, nlohmann::json> fresh;
  for (auto& item : items) {
    ObjectKey key = key_of(item);
    fresh.insert_or_assign(std::move(key), std::move(item));
  }
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, object] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        changes.push_back(Change{InformerEvent::Type::added, key, std::nullopt, object});
      } else if (changed(it->second, object)) {
        changes.push_back(Change{InformerEvent::Type::updated, key, it->second, object});
      }
    }
    for (const auto& [key, old] : cache_) {
      if (!fresh.contains(key)) changes.push_back(Change{InformerEvent::Type::deleted, key, old, std::nullopt});
    }
    cache_ = std::move(fresh);
  }
  emit(changes);
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
}

void Informer::apply(const WatchEvent& event) {
  ObjectKey key = key_of(event.object);
  std::optional<nlohmann::json> old;
  if (event.type == WatchEvent::Type::deleted) {
    {
      std::lock_guard lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) {
        old = std::move(it->second);
        cache_.erase(it);
      }
    }
    // Not cached (deleted before we saw it): report the server's last state.
    emit(InformerEvent{InformerEvent::Type::deleted, key, old ? &*old : &event.object, nullptr});
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = cache_.try_emplace(key, event.object);
    if (!inserted) old = std::exchange(it->second, event.object);
  }
  emit(InformerEvent{old ? InformerEvent::Type::updated : InformerEvent::Type::added, key, old ? &*old : nullptr,
                     &event.object});
}

void Informer::resync() {
  std::vector<std::pair<ObjectKey, nlohmann::json>> snapshot;
  {
    std::lock_guard lock(mu_);
    snapshot.assign(cache_.begin(), cache_.end());
  }
  for (const auto& [key, object] : snapshot) {
    emit(InformerEvent{InformerEvent::Type::updated, key, &object, &object});
  }
}

void Informer::run() {
  auto log = common::logger("kube");
  const bool resyncs = options_.resync_period.count() > 0;
  auto next_resync = Clock::time_point::max();
  auto backoff = options_.initial_backoff;
  std::string resource_version;
  bool need_list = true;

  while (!stop_) {
    if (need_list) {
      auto listed = client_.list(type_, options_.ns, ListOptions{options_.label_selector, options_.field_selector});
      if (stop_) break;
      if (!listed) {
        log->warn("informer list failed resource={} namespace={} retry_in_ms={} error={}", type_.plural,
                  options_.ns, backoff.count(), listed.error().message);
        if (!wait(backoff)) break;
        backoff = doubled(backoff, options_.max_backoff);
        continue;
      }
      resource_version = listed->resource_version;
      replace(std::move(listed->items));
      need_list = false;
      backoff = options_.initial_backoff;
      if (resyncs && next_resync == Clock::time_point::max()) next_resync = Clock::now() + options_.resync_period;
    }

    WatchOptions watch_options{resource_version, options_.label_selector, options_.field_selector, true,
                               options_.watch_timeout};
    if (resyncs) {
      // End an idle watch when the resync is due, so it is not late.
      auto until = std::chrono::ceil<std::chrono::seconds>(next_resync - Clock::now());
      watch_options.timeout = std::clamp(until, std::chrono::seconds(1), options_.watch_timeout);
    }
    bool saw_event = false;
    auto started = Clock::now();
    auto ended = client_.watch(
        type_, options_.ns, watch_options,
        [&](const WatchEvent& event) {
          if (stop_) return false;
          saw_event = true;
          backoff = options_.initial_backoff;
          if (std::string rv = resource_version_of(event.object); !rv.empty()) resource_version = rv;
          if (event.type != WatchEvent::Type::bookmark) apply(event);
          if (resyncs && Clock::now() >= next_resync) {
            resync();
            next_resync = Clock::now() + options_.resync_period;
          }
          return !stop_.load();
        },
        stop_);
    if (stop_) break;

    if (resyncs && Clock::now() >= next_resync) {
      resync();
      next_resync = Clock::now() + options_.resync_period;
    }
    if (ended) {
      ++watch_restarts_;
      if (!ended->last_resource_version.empty()) resource_version = ended->last_resource_version;
      if (!saw_event && Clock::now() - started < kMinHealthyWatch) {
        if (!wait(backoff)) break;
        backoff = doubled(backoff, options_.max_backoff);
      }
      log->debug("informer watch ended resource={} namespace={} resource_version={}", type_.plural, options_.ns,
                 resource_version);
    } else if (is_gone(ended.error())) {
      ++relists_;
      need_list = true;
      log->info("informer relisting resource={} namespace={} reason={}", type_.plural, options_.ns,
                ended.error().message);
    } else {
      ++watch_restarts_;
      log->warn("informer watch failed resource={} namespace={} retry_in_ms={} error={}", type_.plural, options_.ns,
                backoff.count(), ended.error().message);
      if (!wait(backoff)) break;
      backoff = doubled(backoff, options_.max_backoff);
    }
  }
}

}  // namespace keystep::kube
