#pragma once
// ValidationQueue runs challenge validations off the request threads: a
// client's POST to a challenge returns at once ("processing") and a few
// worker threads check the target, retrying with backoff as the job is
// re-queued with a later due time. A job is queued at most once per
// challenge in a process; other replicas hold their own queues, and the
// Store's compare-and-swap decides which result is written. Thread-safe;
// the destructor stops and joins the workers (jobs not yet run are
// dropped: the challenge stays "processing" and is resumed by the next
// request that finds it stale).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace keystep::acme {

struct ValidationJob {
  std::string authorization_id;
  std::string challenge_id;
};

class ValidationQueue {
 public:
  using Work = std::function<void(const ValidationJob&)>;

  ValidationQueue(std::size_t threads, Work work);
  ~ValidationQueue();
  ValidationQueue(const ValidationQueue&) = delete;
  ValidationQueue& operator=(const ValidationQueue&) = delete;

  // enqueue runs the job at `due` (or soon after); false when the same
  // challenge is already queued or running here, or the queue has stopped.
  bool enqueue(const ValidationJob& job, std::chrono::steady_clock::time_point due);
  // requeue is enqueue for the job that is running now (its retry).
  void requeue(const ValidationJob& job, std::chrono::steady_clock::time_point due);
  void stop();

 private:
  void run();
  static std::string key(const ValidationJob& job) { return job.authorization_id + "/" + job.challenge_id; }

  Work work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, ValidationJob> due_;
  std::set<std::string> known_;  // queued or running
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace keystep::acme
