#include "operator/kube/work_queue.h"

#include <algorithm>

namespace keystep::kube {

WorkQueue::WorkQueue(WorkQueueOptions options) : options_(options) {}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued or to requeue
  if (processing_.contains(key)) return;   // done() queues it again
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::milliseconds::zero()) {
    add_locked(key);
    return;
  }
  auto due = Clock::now() + delay;
  // One waiting entry per key, at the earliest time asked for.
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->second != key) continue;
    if (it->first <= due) return;
    waiting_.erase(it);
    break;
  }
  waiting_.emplace(due, key);
  // A waiting get() may be sleeping until a later due time.
  cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::add_rate_limited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mu_);
    int exponent = failures_[key]++;
    delay = options_.max_delay;
    // base * 2^exponent, without overflowing before the cap applies.
    if (exponent < 62) {
      auto base = options_.base_delay.count();
      auto factor = std::int64_t{1} << exponent;
      if (base == 0 || factor <= options_.max_delay.count() / base) {
        delay = std::min(options_.max_delay, std::chrono::milliseconds(base * factor));
      }
    }
  }
  add_after(key, delay);
  return delay;
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::retries(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    promote_due_locked(Clock::now());
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, waiting_.begin()->first);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

std::size_t WorkQueue::size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace keystep::kube
