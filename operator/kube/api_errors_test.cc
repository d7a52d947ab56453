#include "operator/kube/api_errors.h"

#include <catch2/catch.hpp>

#include "operator/kube/client.h"

using namespace keystep;
using namespace keystep::kube;
using nlohmann::json;

namespace {
json status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}};
}
}  // namespace

TEST_CASE("map_status keeps the request and the server's message", "[kube]") {
  auto e = map_status(404, status(404, "NotFound", "secrets \"foo\" not found"), "get secrets keystep/foo");
  CHECK(e.code == Errc::not_found);
  CHECK(e.message == "get secrets keystep/foo: 404 secrets \"foo\" not found");
}

TEST_CASE("map_status maps each HTTP status as client.h says", "[kube]") {
  CHECK(map_status(400, status(400, "BadRequest", "x"), "w").code == Errc::invalid_argument);
  CHECK(map_status(422, status(422, "Invalid", "x"), "w").code == Errc::invalid_argument);
  CHECK(map_status(401, status(401, "Unauthorized", "x"), "w").code == Errc::unauthenticated);
  CHECK(map_status(403, status(403, "Forbidden", "x"), "w").code == Errc::permission_denied);
  CHECK(map_status(429, status(429, "TooManyRequests", "x"), "w").code == Errc::unavailable);
  CHECK(map_status(500, status(500, "InternalError", "x"), "w").code == Errc::unavailable);
  CHECK(map_status(503, nullptr, "w").code == Errc::unavailable);
  CHECK(map_status(504, status(504, "Timeout", "x"), "w").code == Errc::unavailable);
  CHECK(map_status(405, status(405, "MethodNotAllowed", "x"), "w").code == Errc::invalid_argument);
}

TEST_CASE("map_status tells AlreadyExists from a stale resourceVersion conflict", "[kube]") {
  auto exists = map_status(409, status(409, "AlreadyExists", "secrets \"foo\" already exists"), "create secrets ns");
  CHECK(exists.code == Errc::already_exists);
  CHECK_FALSE(is_conflict(exists));

  auto conflict = map_status(409, status(409, "Conflict", "the object has been modified"), "update leases ns/l");
  CHECK(conflict.code == Errc::unavailable);
  CHECK(conflict.message == "conflict: update leases ns/l: 409 the object has been modified");
  CHECK(is_conflict(conflict));
  CHECK_FALSE(is_gone(conflict));
}

TEST_CASE("map_status marks an expired resourceVersion as gone", "[kube]") {
  auto gone = map_status(410, status(410, "Expired", "too old resource version: 1 (42)"), "watch secrets ns");
  CHECK(gone.code == Errc::failed_precondition);
  CHECK(gone.message == "gone: watch secrets ns: 410 too old resource version: 1 (42)");
  CHECK(is_gone(gone));
  CHECK_FALSE(is_conflict(gone));
  CHECK_FALSE(is_gone(Error{Errc::failed_precondition, "expired CA"}));
}

TEST_CASE("map_status falls back to the reason when a body has no message", "[kube]") {
  CHECK(map_status(403, json{{"reason", "Forbidden"}}, "list secrets").message == "list secrets: 403 Forbidden");
  CHECK(map_status(502, nullptr, "get x").message == "get x: 502 no message");
}
