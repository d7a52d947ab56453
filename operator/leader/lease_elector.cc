#include "operator/leader/lease_elector.h"

#include <unistd.h>

#include <random>

#include "issuer/common/log.h"
#include "operator/status/conditions.h"

namespace keystep::leader {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("leader");
  return logger;
}

std::string spec_string(const nlohmann::json& lease, const char* key) {
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return "";
  auto it = spec->find(key);
  return it != spec->end() && it->is_string() ? it->get<std::string>() : "";
}

std::int64_t spec_int(const nlohmann::json& lease, const char* key) {
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return 0;
  auto it = spec->find(key);
  return it != spec->end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

LeaseElector::LeaseElector(kube::Client& client, LeaseElectorOptions options, metrics::Metrics* metrics)
    : client_(client), options_(std::move(options)), metrics_(metrics) {
  if (options_.identity.empty()) options_.identity = default_identity();
  if (metrics_ != nullptr) metrics_->set_leader(false);
}

LeaseElector::~LeaseElector() { stop(); }

std::string LeaseElector::default_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "keystep");
  std::mt19937_64 rng{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(host) + "_" + suffix;
}

void LeaseElector::start(std::function<void()> on_started, std::function<void()> on_stopped) {
  on_started_ = std::move(on_started);
  on_stopped_ = std::move(on_stopped);
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void LeaseElector::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseElector::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void LeaseElector::set_leader(bool leader) {
  if (leader_.exchange(leader) == leader) return;
  if (metrics_ != nullptr) metrics_->set_leader(leader);
  if (leader) {
    log()->info("leadership acquired lease={}/{} identity={}", options_.ns, options_.name, options_.identity);
    if (on_started_) on_started_();
  } else {
    log()->info("leadership lost lease={}/{} identity={}", options_.ns, options_.name, options_.identity);
    if (on_stopped_) on_stopped_();
  }
}

void LeaseElector::run() {
  while (!stop_) {
    const bool held = try_acquire_or_renew();
    const auto now = std::chrono::steady_clock::now();
    if (held) {
      last_renewed_ = now;
      set_leader(true);
    } else if (leader_ && now - last_renewed_ >= options_.renew_deadline) {
      // Could not renew in time: another replica may take the Lease after
      // lease_duration, so stop acting as leader before that.
      set_leader(false);
    } else if (leader_ && observed_holder_ != options_.identity && !observed_holder_.empty()) {
      set_leader(false);  // someone else holds it now
    }
    wait_for(options_.retry_period);
  }
  if (leader_) {
    release();
    set_leader(false);
  }
}

bool LeaseElector::try_acquire_or_renew() {
  const auto now_wall = std::chrono::system_clock::now();
  const auto now = std::chrono::steady_clock::now();
  const std::string now_text = kube_status::format_micro_time(now_wall);
  const auto duration_seconds =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count());
  auto current = client_.get(kube::resources::kLeases, {options_.ns, options_.name});
  if (!current) {
    if (current.error().code != Errc::not_found) {
      log()->warn("lease read failed lease={}/{} error=\"{}\"", options_.ns, options_.name, current.error().message);
      return false;
    }
    nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                            {"kind", "Lease"},
                            {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                            {"spec",
                             {{"holderIdentity", options_.identity},
                              {"leaseDurationSeconds", duration_seconds},
                              {"acquireTime", now_text},
                              {"renewTime", now_text},
                              {"leaseTransitions", 0}}}};
    auto created = client_.create(kube::resources::kLeases, options_.ns, lease);
    if (!created) {
      if (created.error().code != Errc::already_exists) {
        log()->warn("lease create failed lease={}/{} error=\"{}\"", options_.ns, options_.name,
                    created.error().message);
      }
      return false;
    }
    observed_holder_ = options_.identity;
    observed_renew_time_ = now_text;
    observed_at_ = now;
    return true;
  }
  const std::string holder = spec_string(*current, "holderIdentity");
  const std::string renew_time = spec_string(*current, "renewTime");
  if (holder != observed_holder_ || renew_time != observed_renew_time_) {
    observed_holder_ = holder;
    observed_renew_time_ = renew_time;
    observed_at_ = now;
  }
  const auto held_for = std::chrono::seconds(std::max<std::int64_t>(1, spec_int(*current, "leaseDurationSeconds")));
  const bool mine = holder == options_.identity;
  if (!mine && !holder.empty() && now < observed_at_ + held_for) return false;  // held by a live leader

  nlohmann::json lease = *current;
  auto& spec = lease["spec"];
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_seconds;
  spec["renewTime"] = now_text;
  if (!mine) {
    spec["acquireTime"] = now_text;
    spec["leaseTransitions"] = spec_int(*current, "leaseTransitions") + (holder.empty() ? 0 : 1);
  }
  auto updated = client_.update(kube::resources::kLeases, lease);  // resourceVersion: exclusive
  if (!updated) {
    if (!kube::is_conflict(updated.error())) {
      log()->warn("lease update failed lease={}/{} error=\"{}\"", options_.ns, options_.name, updated.error().message);
    }
    return false;
  }
  observed_holder_ = options_.identity;
  observed_renew_time_ = now_text;
  observed_at_ = now;
  return true;
}

void LeaseElector::release() {
  auto current = client_.get(kube::resources::kLeases, {options_.ns, options_.name});
  if (!current || spec_string(*current, "holderIdentity") != options_.identity) return;
  nlohmann::json lease = *current;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = kube_status::format_micro_time(std::chrono::system_clock::now());
  if (auto s = client_.update(kube::resources::kLeases, lease); !s) {
    log()->warn("lease release failed lease={}/{} error=\"{}\"", options_.ns, options_.name, s.error().message);
  } else {
    log()->info("lease released lease={}/{} identity={}", options_.ns, options_.name, options_.identity);
  }
}

}  // namespace keystep::leader
