#include "operator/kube/watch_event.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::kube;

TEST_CASE("decode_watch_event reads each event type", "[kube]") {
  auto added = decode_watch_event(
      R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"n","resourceVersion":"7"}}})", "watch");
  REQUIRE(added);
  CHECK(added->type == WatchEvent::Type::added);
  CHECK(resource_version_of(added->object) == "7");
  CHECK(decode_watch_event(R"({"type":"MODIFIED","object":{}})", "w")->type == WatchEvent::Type::modified);
  CHECK(decode_watch_event(R"({"type":"DELETED","object":{}})", "w")->type == WatchEvent::Type::deleted);
  CHECK(decode_watch_event(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})", "w")->type ==
        WatchEvent::Type::bookmark);
}

TEST_CASE("decode_watch_event returns an ERROR event's Status as gone", "[kube]") {
  auto gone = decode_watch_event(
      R"j({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 5 (9)"}})j",
      "watch secrets keystep");
  REQUIRE_FALSE(gone);
  CHECK(is_gone(gone.error()));
  CHECK(gone.error().message == "gone: watch secrets keystep: 410 too old resource version: 5 (9)");
}

TEST_CASE("decode_watch_event rejects lines that are not events", "[kube]") {
  CHECK(decode_watch_event("not json", "w").error().code == Errc::internal);
  CHECK(decode_watch_event(R"({"object":{}})", "w").error().code == Errc::internal);
  CHECK(decode_watch_event(R"({"type":"SURPRISE","object":{}})", "w").error().code == Errc::internal);
  CHECK(resource_version_of(nlohmann::json::array()).empty());
}
