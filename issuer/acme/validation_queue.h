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
#include <cstdint>
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

  // attempts_done counts the finished attempts of a challenge in this
  // process; wait_attempt waits (up to timeout) until it exceeds `seen`,
  // so a request can answer with the first attempt's result when it is quick.
  [[nodiscard]] std::uint64_t attempts_done(const ValidationJob& job);
  bool wait_attempt(const ValidationJob& job, std::uint64_t seen, std::chrono::milliseconds timeout);

 private:
  void run();
  static std::string key(const ValidationJob& job) { return job.authorization_id + "/" + job.challenge_id; }

  Work work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, ValidationJob> due_;
  std::set<std::string> known_;     // queued or running
  std::set<std::string> requeued_;  // running, and queued again by requeue()
  std::map<std::string, std::uint64_t> done_;  // finished attempts of known_ challenges
  std::condition_variable done_cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace keystep::acme
