// The harness itself: child processes with stdin, exit codes and a bounded
// run time, and a server that never comes up failing the test with its log.

#include <catch2/catch.hpp>

#include "tests/integration/harness.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("run feeds stdin and collects stdout, stderr and the exit code", "[harness]") {
  auto echoed = run({"cat"}, "hello\n");
  CHECK(echoed.exit_code == 0);
  CHECK(echoed.out == "hello\n");
  auto failed = run({"sh", "-c", "echo oops >&2; exit 3"});
  CHECK(failed.exit_code == 3);
  CHECK(failed.err == "oops\n");
  CHECK(run({"/nonexistent/binary"}).exit_code == 127);
}

TEST_CASE("run kills a command that outlives its timeout", "[harness]") {
  auto r = run({"sleep", "30"}, "", std::chrono::seconds(1));
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + 9);
}

TEST_CASE("TempDir removes its directory and everything in it", "[harness]") {
  std::filesystem::path kept;
  {
    TempDir tmp;
    kept = tmp.path();
    write_text(tmp / "file", "x");
    REQUIRE(std::filesystem::exists(kept / "file"));
  }
  CHECK_FALSE(std::filesystem::exists(kept));
}

TEST_CASE("ServerProcess fails with the server's log when keystep serve exits before listening", "[harness]") {
  TempDir tmp;
  write_text(tmp / "keystep.yaml", "address: \"127.0.0.1:0\"\n");  // no dnsNames, no ca
  try {
    ServerProcess server({.config = tmp / "keystep.yaml"});
    FAIL("keystep serve started with a config that has no CA");
  } catch (const HarnessError& e) {
    CHECK_THAT(e.what(), Contains("exited with status 1 before listening") && Contains("dnsNames"));
  }
}

}  // namespace
}  // namespace keystep::integration
