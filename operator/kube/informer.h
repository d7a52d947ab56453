#pragma once
// Informer keeps a local cache of one resource type (optionally one
// namespace and selectors) in step with the API server: it lists, then
// watches from the list's resourceVersion with bookmarks; when the watch
// ends it resumes from the last version seen; on a disconnect it retries
// with exponential backoff (0.5 s doubling to 30 s); on 410 Gone it relists
// and reports the difference (added, updated, deleted) so no change is lost.
// Handlers run on the informer's thread, in order, and must not block; they
// typically enqueue the object's key into a WorkQueue.
//
// Thread-safe: get()/list() may be called from any thread. start() spawns the
// thread; stop() (or the destructor) ends it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"

namespace keystep::kube {

struct InformerEvent {
  enum class Type { added, updated, deleted };
  Type type;
  ObjectKey key;
  const nlohmann::json* old_object;  // updated, deleted: the cached object before; else null
  const nlohmann::json* object;      // added, updated: the new object; deleted: null
};

struct InformerOptions {
  std::string ns;  // "" = all namespaces (or a cluster-scoped type)
  std::string label_selector;
  std::string field_selector;
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  // resync_period: every this often each cached object is reported again as
  // updated (old == new), so level-triggered controllers re-check; 0 = never.
  std::chrono::seconds resync_period{0};
};

class Informer {
 public:
  using Handler = std::function<void(const InformerEvent&)>;

  Informer(Client& client, ResourceType type, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // add_handler must be called before start().
  void add_handler(Handler handler);
  void start();
  void stop();

  // wait_for_sync blocks until the first list is in the cache or the timeout
  // passes; returns whether it synced.
  [[nodiscard]] bool wait_for_sync(std::chrono::milliseconds timeout);
  [[nodiscard]] bool has_synced() const;

  [[nodiscard]] std::optional<nlohmann::json> get(const ObjectKey& key) const;
  [[nodiscard]] std::vector<nlohmann::json> list() const;
  [[nodiscard]] const ResourceType& type() const { return type_; }

  // Counters for tests and metrics.
  [[nodiscard]] std::uint64_t relists() const { return relists_.load(); }
  [[nodiscard]] std::uint64_t watch_restarts() const { return watch_restarts_.load(); }

 private:
  struct Change;  // one event to report, owning its objects

  void run();
  // replace swaps in a fresh list and reports how it differs from the cache.
  void replace(std::vector<nlohmann::json> items);
  void apply(const WatchEvent& event);
  void resync();
  void emit(const std::vector<Change>& changes);
  void emit(const InformerEvent& event);
  // wait sleeps for d or until stop(); returns false if stopped.
  bool wait(std::chrono::milliseconds d);

  Client& client_;
  ResourceType type_;
  InformerOptions options_;
  std::vector<Handler> handlers_;
  mutable std::mutex mu_;
  std::condition_variable synced_cv_;
  std::condition_variable stop_cv_;
  std::map<ObjectKey, nlohmann::json> cache_;
  bool synced_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> relists_{0};
  std::atomic<std::uint64_t> watch_restarts_{0};
  std::thread thread_;
};

// key_of returns the ObjectKey of an object (metadata.namespace, .name).
[[nodiscard]] ObjectKey key_of(const nlohmann::json& object);

}  // namespace keystep::kube
