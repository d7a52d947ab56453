#include "issuer/acme/validation_queue.h"

#include "issuer/common/log.h"

namespace keystep::acme {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("acme");
  return logger;
}

}  // namespace

ValidationQueue::ValidationQueue(std::size_t threads, Work work) : work_(std::move(work)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i) threads_.emplace_back([this] { run(); });
}

ValidationQueue::~ValidationQueue() { stop(); }

void ValidationQueue::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool ValidationQueue::enqueue(const ValidationJob& job, std::chrono::steady_clock::time_point due) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !known_.insert(key(job)).second) return false;
    due_.emplace(due, job);
  }
  cv_.notify_one();
  return true;
}

void ValidationQueue::requeue(const ValidationJob& job, std::chrono::steady_clock::time_point due) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    requeued_.insert(key(job));
    due_.emplace(due, job);
  }
  cv_.notify_one();
}

std::uint64_t ValidationQueue::attempts_done(const ValidationJob& job) {
  std::lock_guard lock(mu_);
  auto it = done_.find(key(job));
  return it == done_.end() ? 0 : it->second;
}

bool ValidationQueue::wait_attempt(const ValidationJob& job, std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::string k = key(job);
  return done_cv_.wait_for(lock, timeout, [&] {
    if (stopping_) return true;
    auto it = done_.find(k);
    // Finished for good (forgotten) or one more attempt done.
    return known_.count(k) == 0 || (it != done_.end() && it->second > seen);
  });
}

void ValidationQueue::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, first->first);
      continue;
    }
    ValidationJob job = std::move(first->second);
    due_.erase(first);
    lock.unlock();
    // A retry re-queues the job from inside work_; known_ keeps it
    // marked until it is finally done.
    try {
      work_(job);
    } catch (const std::exception& e) {
      log()->error("acme validation failed authz={} error=\"{}\"", job.authorization_id, e.what());
    }
    lock.lock();
    ++done_[key(job)];
    done_cv_.notify_all();
    const bool requeued = requeued_.erase(key(job)) != 0;
    if (!requeued) {
      known_.erase(key(job));
      done_.erase(key(job));
    }
  }
}

}  // namespace keystep::acme
