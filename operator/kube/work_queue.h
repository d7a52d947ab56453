#pragma once
// WorkQueue is the controllers' rate-limited queue of object keys, with
// client-go's semantics: a key is queued at most once however often it is
// added (deduplication); a key being processed is not handed to a second
// worker — if added meanwhile, it is queued again when done() is called;
// add_after() delays a key; add_rate_limited() delays it by a per-key
// exponential backoff (base doubling to max) that forget() resets.
// Thread-safe. shutdown() wakes every waiting get() with nullopt.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace keystep::kube {

struct WorkQueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{std::chrono::seconds(300)};
};

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(WorkQueueOptions options = {});

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // add_rate_limited requeues after the key's next backoff delay; returns it.
  std::chrono::milliseconds add_rate_limited(const std::string& key);
  // forget resets the key's backoff (call after a success).
  void forget(const std::string& key);
  [[nodiscard]] int retries(const std::string& key) const;

  // get blocks for the next ready key; nullopt after shutdown.
  [[nodiscard]] std::optional<std::string> get();
  // done marks a key from get() finished.
  void done(const std::string& key);
  void shutdown();

  [[nodiscard]] std::size_t size() const;  // keys ready now

 private:
  void add_locked(const std::string& key);
  void promote_due_locked(Clock::time_point now);

  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued, or to requeue when done
  std::set<std::string> processing_;
  std::multimap<Clock::time_point, std::string> waiting_;  // add_after
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace keystep::kube
