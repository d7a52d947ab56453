#pragma once
// Metrics are the CA's Prometheus metrics (prometheus-cpp core; served as
// text by the API's /metrics route). Names follow Prometheus conventions:
//   keystep_certificates_issued_total{provisioner,result}
//   keystep_certificates_renewed_total{provisioner,result}
//   keystep_certificates_revoked_total{provisioner,result}
//   keystep_requests_denied_total{reason}
//   keystep_sign_duration_seconds (histogram)
//   keystep_http_requests_total{route,code}
//   keystep_database_errors_total{operation}
//   keystep_intermediate_not_after_timestamp_seconds
//   keystep_crl_age_seconds
//   keystep_start_time_seconds
//   keystep_leader (1 while this replica holds the controllers' Lease)
//   keystep_leader_transitions_total{change="acquired"|"lost"}
//   keystep_certificaterequests_total{result="issued"|"failed"|"denied"|"pending"}
// Labels are low-cardinality by construction (route patterns, fixed
// reasons, provisioner names from config). Thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "issuer/common/clock.h"

namespace prometheus {
class Registry;
}

namespace keystep::metrics {

// DenialReason says which check refused a request.
enum class DenialReason {
  bad_request,        // malformed body, CSR, or times
  bad_token,          // token failed authentication
  token_replayed,     // token id already used
  name_not_allowed,   // CSR names not granted, or name policy
  key_rejected,       // key policy
  ca_not_allowed,     // the CSR asks for a CA certificate
  lifetime_rejected,  // claims
  unavailable,        // CA or database cannot serve now
};

[[nodiscard]] std::string_view to_string(DenialReason reason);

class Metrics {
 public:
  explicit Metrics(const common::Clock& clock);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void certificate_issued(std::string_view provisioner, bool success);
  void certificate_renewed(std::string_view provisioner, bool success);
  void certificate_revoked(std::string_view provisioner, bool success);
  void request_denied(DenialReason reason);
  void sign_duration(std::chrono::nanoseconds elapsed);
  void http_request(std::string_view route, int code);
  void database_error(std::string_view operation);
  void set_intermediate_not_after(common::TimePoint not_after);
  void set_crl_this_update(common::TimePoint this_update);
  void set_leader(bool is_leader);
  // certificate_request counts a CertificateRequest outcome written to its status.
  void certificate_request(std::string_view result);

  // render returns the Prometheus text exposition (format 0.0.4).
  [[nodiscard]] std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keystep::metrics
