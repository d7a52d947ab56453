#include "issuer/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <sstream>

namespace keystep::metrics {
namespace {

double seconds_since_epoch(common::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(DenialReason reason) {
  switch (reason) {
    case DenialReason::bad_request: return "bad_request";
    case DenialReason::bad_token: return "bad_token";
    case DenialReason::token_replayed: return "token_replayed";
    case DenialReason::name_not_allowed: return "name_not_allowed";
    case DenialReason::key_rejected: return "key_rejected";
    case DenialReason::ca_not_allowed: return "ca_not_allowed";
    case DenialReason::lifetime_rejected: return "lifetime_rejected";
    case DenialReason::unavailable: return "unavailable";
  }
  return "unknown";
}

struct Metrics::Impl {
  explicit Impl(const common::Clock& c) : clock(c), registry(std::make_shared<prometheus::Registry>()) {}

  const common::Clock& clock;
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>& issued =
      prometheus::BuildCounter()
          .Name("keystep_certificates_issued_total")
          .Help("Certificates issued, by provisioner and result")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& renewed =
      prometheus::BuildCounter()
          .Name("keystep_certificates_renewed_total")
          .Help("Certificates renewed, by provisioner and result")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& revoked =
      prometheus::BuildCounter()
          .Name("keystep_certificates_revoked_total")
          .Help("Certificates revoked, by provisioner and result")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& denied =
      prometheus::BuildCounter()
          .Name("keystep_requests_denied_total")
          .Help("Certificate requests refused, by the check that refused them")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& http =
      prometheus::BuildCounter()
          .Name("keystep_http_requests_total")
          .Help("HTTP requests, by route pattern and status code")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& db_errors =
      prometheus::BuildCounter()
          .Name("keystep_database_errors_total")
          .Help("Database operations that failed, by operation")
          .Register(*registry);
  prometheus::Histogram& sign_seconds =
      prometheus::BuildHistogram()
          .Name("keystep_sign_duration_seconds")
          .Help("Time to authorize and sign one certificate")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                           0.025, 0.05, 0.1, 0.25, 1});
  prometheus::Gauge& intermediate_not_after =
      prometheus::BuildGauge()
          .Name("keystep_intermediate_not_after_timestamp_seconds")
          .Help("notAfter of the signing intermediate, as a Unix timestamp")
          .Register(*registry)
          .Add({});
  prometheus::Family<prometheus::Gauge>& crl_age_family =
      prometheus::BuildGauge()
          .Name("keystep_crl_age_seconds")
          .Help("Seconds since thisUpdate of the CRL being served")
          .Register(*registry);
  prometheus::Gauge& start_time =
      prometheus::BuildGauge()
          .Name("keystep_start_time_seconds")
          .Help("Start time of this process, as a Unix timestamp")
          .Register(*registry)
          .Add({});
  prometheus::Gauge& leader =
      prometheus::BuildGauge()
          .Name("keystep_leader")
          .Help("1 while this replica holds the controllers' Lease, else 0")
          .Register(*registry)
          .Add({});
  prometheus::Family<prometheus::Counter>& leader_transitions =
      prometheus::BuildCounter()
          .Name("keystep_leader_transitions_total")
          .Help("Leadership changes of this replica, acquired or lost")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& certificate_requests =
      prometheus::BuildCounter()
          .Name("keystep_certificaterequests_total")
          .Help("cert-manager CertificateRequest outcomes written, by result")
          .Register(*registry);
  std::atomic<double> crl_this_update{0};
  std::atomic<bool> is_leader{false};
};

Metrics::Metrics(const common::Clock& clock) : impl_(std::make_unique<Impl>(clock)) {
  impl_->start_time.Set(seconds_since_epoch(clock.now()));
}

Metrics::~Metrics() = default;

void Metrics::certificate_issued(std::string_view provisioner, bool success) {
  impl_->issued.Add({{"provisioner", std::string(provisioner)}, {"result", success ? "success" : "failure"}})
      .Increment();
}

void Metrics::certificate_renewed(std::string_view provisioner, bool success) {
  impl_->renewed.Add({{"provisioner", std::string(provisioner)}, {"result", success ? "success" : "failure"}})
      .Increment();
}

void Metrics::certificate_revoked(std::string_view provisioner, bool success) {
  impl_->revoked.Add({{"provisioner", std::string(provisioner)}, {"result", success ? "success" : "failure"}})
      .Increment();
}

void Metrics::request_denied(DenialReason reason) {
  impl_->denied.Add({{"reason", std::string(to_string(reason))}}).Increment();
}

void Metrics::sign_duration(std::chrono::nanoseconds elapsed) {
  impl_->sign_seconds.Observe(std::chrono::duration<double>(elapsed).count());
}

void Metrics::http_request(std::string_view route, int code) {
  impl_->http.Add({{"route", std::string(route)}, {"code", std::to_string(code)}}).Increment();
}

void Metrics::database_error(std::string_view operation) {
  impl_->db_errors.Add({{"operation", std::string(operation)}}).Increment();
}

void Metrics::set_intermediate_not_after(common::TimePoint not_after) {
  impl_->intermediate_not_after.Set(seconds_since_epoch(not_after));
}

void Metrics::set_crl_this_update(common::TimePoint this_update) {
  impl_->crl_this_update = seconds_since_epoch(this_update);
}

void Metrics::set_leader(bool is_leader) {
  if (impl_->is_leader.exchange(is_leader) != is_leader) {
    impl_->leader_transitions.Add({{"change", is_leader ? "acquired" : "lost"}}).Increment();
  }
  impl_->leader.Set(is_leader ? 1 : 0);
}

void Metrics::certificate_request(std::string_view result) {
  impl_->certificate_requests.Add({{"result", std::string(result)}}).Increment();
}

std::string Metrics::render() const {
  // The CRL age is a function of now; compute it at scrape time.
  if (double t = impl_->crl_this_update.load(); t > 0) {
    impl_->crl_age_family.Add({}).Set(seconds_since_epoch(impl_->clock.now()) - t);
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace keystep::metrics
