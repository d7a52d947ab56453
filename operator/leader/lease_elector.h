#pragma once
// LeaseElector is leader election over one coordination.k8s.io/v1 Lease, as
// client-go's leaderelection does it: a candidate takes the Lease when it is
// free or its holder has not renewed it for leaseDurationSeconds (measured
// on this replica's clock from when it last saw the Lease change, so clock
// skew between replicas does not matter), renews it every retry period,
// and gives up leadership when it cannot renew within renew_deadline.
// Optimistic concurrency (resourceVersion) makes two candidates' writes
// exclusive: exactly one wins a round. On stop() a leader releases the Lease
// (empty holder) so the next replica takes over at once.
//
// on_started and on_stopped run on the elector's thread: on_started when
// this replica becomes leader, on_stopped when it stops being leader (lost
// or released). Leadership changes are logged at info and exported as
// keystep_leader / keystep_leader_transitions_total. Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/metrics/metrics.h"
#include "operator/kube/client.h"

namespace keystep::leader {

struct LeaseElectorOptions {
  std::string ns;        // the Lease's namespace
  std::string name = "keystep-controllers";
  std::string identity;  // this replica: hostname + "_" + random
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

class LeaseElector {
 public:
  LeaseElector(kube::Client& client, LeaseElectorOptions options, metrics::Metrics* metrics = nullptr);
  ~LeaseElector();
  LeaseElector(const LeaseElector&) = delete;
  LeaseElector& operator=(const LeaseElector&) = delete;

  void start(std::function<void()> on_started, std::function<void()> on_stopped);
  // stop ends the election, releasing the Lease if held (on_stopped runs).
  void stop();

  [[nodiscard]] bool is_leader() const { return leader_.load(); }
  [[nodiscard]] const std::string& identity() const { return options_.identity; }

  // default_identity is hostname_<random hex>.
  [[nodiscard]] static std::string default_identity();

 private:
  void run();
  // try_acquire_or_renew does one round; true when this replica holds the Lease.
  bool try_acquire_or_renew();
  void release();
  void set_leader(bool leader);
  void wait_for(std::chrono::milliseconds d);

  kube::Client& client_;
  LeaseElectorOptions options_;
  metrics::Metrics* metrics_;
  std::function<void()> on_started_;
  std::function<void()> on_stopped_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;

  // What this replica last saw of the Lease, and when it saw it change.
  std::string observed_holder_;
  std::string observed_renew_time_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::chrono::steady_clock::time_point last_renewed_{};
};

}  // namespace keystep::leader
