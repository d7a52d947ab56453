#pragma once
// Conditions: reading and setting entries of an object's status.conditions
// list, the way metav1.Condition (our CRDs) and cert-manager's
// CertificateRequestCondition (no observedGeneration) expect: one entry per
// type, lastTransitionTime kept while the status does not change.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"

namespace keystep::kube_status {

struct Condition {
  std::string type;    // "Ready"
  std::string status;  // "True", "False", "Unknown"
  std::string reason;  // CamelCase: "Issued", "Pending", "Failed", "Denied"
  std::string message;
  std::optional<std::int64_t> observed_generation;  // set for metav1.Condition
};

// find_condition returns the object's condition of `type` (status.conditions).
[[nodiscard]] std::optional<Condition> find_condition(const nlohmann::json& object, const std::string& type);

// is_condition_true: the condition exists with status "True".
[[nodiscard]] bool is_condition_true(const nlohmann::json& object, const std::string& type);

// with_condition returns `conditions` (a JSON array, or null) with c set:
// replaced in place when its type exists, appended otherwise. The
// lastTransitionTime moves to `now` only when the status changes.
[[nodiscard]] nlohmann::json with_condition(const nlohmann::json& conditions, const Condition& c,
                                            common::TimePoint now);

// same_condition: type, status, reason, message and generation unchanged
// (a status write can be skipped).
[[nodiscard]] bool same_condition(const nlohmann::json& object, const Condition& c);

// format_time is RFC 3339 in UTC with second precision ("2026-12-02T04:20:00Z").
[[nodiscard]] std::string format_time(common::TimePoint t);
// format_micro_time is metav1.MicroTime ("2026-12-02T04:20:00.123456Z").
[[nodiscard]] std::string format_micro_time(common::TimePoint t);
// parse_time reads either format; nullopt if malformed.
[[nodiscard]] std::optional<common::TimePoint> parse_time(const std::string& text);

}  // namespace keystep::kube_status
