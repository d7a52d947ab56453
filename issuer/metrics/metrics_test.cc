#include "issuer/metrics/metrics.h"

#include <catch2/catch.hpp>

using namespace keystep;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

TEST_CASE("Metrics renders counters with their labels in Prometheus text format", "[metrics]") {
  common::FakeClock clock(common::TimePoint(std::chrono::seconds(1'000'000)));
  metrics::Metrics m(clock);
  m.certificate_issued("admin", true);
  m.certificate_issued("admin", true);
  m.certificate_issued("admin", false);
  m.request_denied(metrics::DenialReason::token_replayed);
  m.http_request("/1.0/sign", 201);
  m.database_error("insert_certificate");
  auto text = m.render();
  CHECK_THAT(text, Contains("keystep_certificates_issued_total{provisioner=\"admin\",result=\"success\"} 2"));
  CHECK_THAT(text, Contains("keystep_certificates_issued_total{provisioner=\"admin\",result=\"failure\"} 1"));
  CHECK_THAT(text, Contains("keystep_requests_denied_total{reason=\"token_replayed\"} 1"));
  CHECK_THAT(text, Contains("keystep_http_requests_total{code=\"201\",route=\"/1.0/sign\"} 1"));
  CHECK_THAT(text, Contains("keystep_database_errors_total{operation=\"insert_certificate\"} 1"));
  CHECK_THAT(text, Contains("# TYPE keystep_sign_duration_seconds histogram"));
  CHECK_THAT(text, Contains("keystep_start_time_seconds 1000000"));
}

TEST_CASE("Metrics exports the intermediate's notAfter and the CRL age at scrape time", "[metrics]") {
  common::FakeClock clock(common::TimePoint(std::chrono::seconds(2'000'000)));
  metrics::Metrics m(clock);
  m.set_intermediate_not_after(common::TimePoint(std::chrono::seconds(3'000'000)));
  CHECK_THAT(m.render(), Contains("keystep_intermediate_not_after_timestamp_seconds 3000000"));
  CHECK_THAT(m.render(), !Contains("keystep_crl_age_seconds "));
  m.set_crl_this_update(clock.now());
  clock.advance(90s);
  CHECK_THAT(m.render(), Contains("keystep_crl_age_seconds 90"));
}

TEST_CASE("Metrics histogram counts sign durations into buckets", "[metrics]") {
  common::FakeClock clock(common::TimePoint{});
  metrics::Metrics m(clock);
  m.sign_duration(200us);
  m.sign_duration(3ms);
  auto text = m.render();
  CHECK_THAT(text, Contains("keystep_sign_duration_seconds_count 2"));
  CHECK_THAT(text, Contains("keystep_sign_duration_seconds_bucket{le=\"0.00025\"} 1"));
  CHECK_THAT(text, Contains("keystep_sign_duration_seconds_bucket{le=\"0.005\"} 2"));
}

TEST_CASE("Metrics counts leadership changes, not repeated reports of the same state", "[metrics]") {
  common::FakeClock clock(common::TimePoint{});
  metrics::Metrics m(clock);
  m.set_leader(false);
  CHECK_THAT(m.render(), Contains("keystep_leader 0"));
  m.set_leader(true);
  m.set_leader(true);
  m.set_leader(false);
  m.certificate_request("issued");
  auto text = m.render();
  CHECK_THAT(text, Contains("keystep_leader_transitions_total{change=\"acquired\"} 1"));
  CHECK_THAT(text, Contains("keystep_leader_transitions_total{change=\"lost\"} 1"));
  CHECK_THAT(text, Contains("keystep_certificaterequests_total{result=\"issued\"} 1"));
}
