#include "operator/status/conditions.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::kube_status;
using namespace std::chrono_literals;

TEST_CASE("with_condition keeps lastTransitionTime while the status does not change", "[status]") {
  const common::TimePoint t0 = common::TimePoint(std::chrono::seconds(1'800'000'000));
  auto conditions = with_condition(nullptr, {"Ready", "False", "Pending", "waiting", 1}, t0);
  REQUIRE(conditions.size() == 1);
  CHECK(conditions[0]["lastTransitionTime"] == format_time(t0));
  CHECK(conditions[0]["observedGeneration"] == 1);

  auto same_status = with_condition(conditions, {"Ready", "False", "Pending", "still waiting", 2}, t0 + 60s);
  CHECK(same_status[0]["lastTransitionTime"] == format_time(t0));
  CHECK(same_status[0]["message"] == "still waiting");
  CHECK(same_status[0]["observedGeneration"] == 2);

  auto flipped = with_condition(same_status, {"Ready", "True", "Issued", "done", std::nullopt}, t0 + 120s);
  REQUIRE(flipped.size() == 1);
  CHECK(flipped[0]["lastTransitionTime"] == format_time(t0 + 120s));
  CHECK_FALSE(flipped[0].contains("observedGeneration"));
}

TEST_CASE("with_condition appends other types and leaves them alone", "[status]") {
  const common::TimePoint t0 = common::TimePoint(std::chrono::seconds(1'800'000'000));
  nlohmann::json object = {{"status", {{"conditions", nlohmann::json::array()}}}};
  object["status"]["conditions"] = with_condition(nullptr, {"Approved", "True", "cert-manager.io", "ok", {}}, t0);
  object["status"]["conditions"] =
      with_condition(object["status"]["conditions"], {"Ready", "False", "Denied", "no", {}}, t0);
  CHECK(object["status"]["conditions"].size() == 2);
  CHECK(is_condition_true(object, "Approved"));
  CHECK_FALSE(is_condition_true(object, "Ready"));
  CHECK_FALSE(is_condition_true(object, "Denied"));
  auto ready = find_condition(object, "Ready");
  REQUIRE(ready);
  CHECK(ready->reason == "Denied");
  CHECK(same_condition(object, {"Ready", "False", "Denied", "no", {}}));
  CHECK_FALSE(same_condition(object, {"Ready", "False", "Denied", "other message", {}}));
}

TEST_CASE("time formats round-trip through parse_time", "[status]") {
  const common::TimePoint t = common::TimePoint(std::chrono::seconds(1'800'000'000)) + 123456us;
  CHECK(format_time(t) == "2027-01-15T08:00:00Z");
  CHECK(format_micro_time(t) == "2027-01-15T08:00:00.123456Z");
  CHECK(parse_time(format_micro_time(t)) == t);
  CHECK(parse_time("2027-01-15T08:00:00Z") == common::TimePoint(std::chrono::seconds(1'800'000'000)));
  CHECK_FALSE(parse_time("yesterday"));
  CHECK_FALSE(parse_time("2027-01-15T08:00:00+01:00"));
}
