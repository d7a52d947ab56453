// keystep serve stops cleanly on the signals a supervisor sends: exit
// status 0 and "server stopped" in its log.

#include <signal.h>

#include <catch2/catch.hpp>

#include "tests/integration/ca_fixture.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("keystep serve exits 0 on SIGTERM and logs server stopped", "[shutdown]") {
  RunningCa ca({.password = false});
  REQUIRE(ca.http.get("/health").status == 200);
  CHECK(ca.server.stop(SIGTERM) == 0);
  CHECK_THAT(ca.server.log(), Contains("server stopped"));
}

TEST_CASE("keystep serve exits 0 on SIGINT and logs server stopped", "[shutdown]") {
  RunningCa ca({.password = false});
  REQUIRE(ca.http.get("/health").status == 200);
  CHECK(ca.server.stop(SIGINT) == 0);
  CHECK_THAT(ca.server.log(), Contains("server stopped"));
}

}  // namespace
}  // namespace keystep::integration
