#include "operator/kube/work_queue.h"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

using namespace keystep::kube;
using namespace std::chrono_literals;

TEST_CASE("WorkQueue queues a key once however often it is added", "[kube]") {
  WorkQueue q;
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  CHECK(q.size() == 2);
  CHECK(q.get() == "ns/a");
  CHECK(q.get() == "ns/b");
  CHECK(q.size() == 0);
}

TEST_CASE("WorkQueue does not hand a key being processed to a second worker", "[kube]") {
  WorkQueue q;
  q.add("ns/a");
  auto key = q.get();
  REQUIRE(key == "ns/a");
  q.add("ns/a");  // changed while processing
  CHECK(q.size() == 0);

  std::atomic<bool> got{false};
  std::thread second([&] {
    auto k = q.get();
    got = k.has_value();
    if (k) q.done(*k);
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(got.load());
  q.done("ns/a");  // requeues it
  second.join();
  CHECK(got.load());
}

TEST_CASE("WorkQueue requeues on done only if added meanwhile", "[kube]") {
  WorkQueue q;
  q.add("a");
  REQUIRE(q.get() == "a");
  q.done("a");
  CHECK(q.size() == 0);
  q.add("a");
  REQUIRE(q.get() == "a");
  q.add("a");
  q.add("a");
  q.done("a");
  CHECK(q.size() == 1);
}

TEST_CASE("WorkQueue add_after releases keys in due order", "[kube]") {
  WorkQueue q;
  auto start = WorkQueue::Clock::now();
  q.add_after("late", 120ms);
  q.add_after("early", 40ms);
  q.add_after("now", 0ms);
  CHECK(q.size() == 1);
  CHECK(q.get() == "now");
  CHECK(q.get() == "early");
  CHECK(WorkQueue::Clock::now() - start >= 40ms);
  CHECK(q.get() == "late");
  CHECK(WorkQueue::Clock::now() - start >= 120ms);
}

TEST_CASE("WorkQueue add_after keeps the earliest due time of a key", "[kube]") {
  WorkQueue q;
  auto start = WorkQueue::Clock::now();
  q.add_after("k", 10s);
  q.add_after("k", 30ms);
  q.add_after("k", 20s);
  CHECK(q.get() == "k");
  CHECK(WorkQueue::Clock::now() - start < 5s);
  q.done("k");
  CHECK(q.size() == 0);
}

TEST_CASE("WorkQueue backoff doubles per failure, caps, and resets on forget", "[kube]") {
  WorkQueue q(WorkQueueOptions{1ms, 8ms});
  CHECK(q.add_rate_limited("k") == 1ms);
  CHECK(q.add_rate_limited("k") == 2ms);
  CHECK(q.add_rate_limited("k") == 4ms);
  CHECK(q.add_rate_limited("k") == 8ms);
  CHECK(q.add_rate_limited("k") == 8ms);
  CHECK(q.retries("k") == 5);
  for (int i = 0; i < 100; ++i) (void)q.add_rate_limited("k");
  CHECK(q.add_rate_limited("k") == 8ms);
  q.forget("k");
  CHECK(q.retries("k") == 0);
  CHECK(q.add_rate_limited("k") == 1ms);
  CHECK(q.get() == "k");
}

TEST_CASE("WorkQueue shutdown wakes every waiting get with nullopt", "[kube]") {
  WorkQueue q;
  q.add_after("far", 1h);
  std::atomic<int> woke{0};
  std::thread a([&] { if (!q.get()) ++woke; });
  std::thread b([&] { if (!q.get()) ++woke; });
  std::this_thread::sleep_for(30ms);
  q.shutdown();
  a.join();
  b.join();
  CHECK(woke == 2);
  q.add("x");
  CHECK_FALSE(q.get());
}
