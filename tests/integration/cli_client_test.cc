// The client commands against a running CA: ca health, ca root (bootstrap
// by fingerprint), ca provisioners, certificate fingerprint and inspect.

#include <catch2/catch.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("keystep ca health reports ok for a CA it trusts through --root", "[client]") {
  RunningCa ca({.password = false});
  auto r = keystep({"ca", "health", "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string()});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("ok"));
}

TEST_CASE("keystep ca health refuses a CA that another root does not vouch for", "[client]") {
  RunningCa ca({.password = false});
  Pki other = init_pki(ca.tmp, "other", {.password = false});
  auto r = keystep({"ca", "health", "--ca-url", ca.server.url(), "--root", other.root_cert().string()});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("certificate verify failed"));
}

TEST_CASE("keystep certificate fingerprint prints the SHA-256 openssl computes", "[client]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca", {.password = false});
  auto r = require_ok(keystep({"certificate", "fingerprint", pki.root_cert().string()}), "fingerprint");
  CHECK(r.out == sha256_hex(pki.root_cert()) + "\n");
}

TEST_CASE("keystep ca root downloads the root whose fingerprint it was given, and refuses another", "[client]") {
  RunningCa ca({.password = false});
  const std::string fp = sha256_hex(ca.pki.root_cert());
  require_ok(keystep({"ca", "root", (ca.tmp / "root.crt").string(), "--ca-url", ca.server.url(), "--fingerprint", fp}),
             "keystep ca root");
  CHECK(read_text(ca.tmp / "root.crt") == read_text(ca.pki.root_cert()));

  auto wrong = keystep({"ca", "root", (ca.tmp / "wrong.crt").string(), "--ca-url", ca.server.url(), "--fingerprint",
                        std::string(64, '0')});
  INFO(wrong.describe());
  CHECK(wrong.exit_code == 1);
  CHECK_FALSE(std::filesystem::exists(ca.tmp / "wrong.crt"));
}

TEST_CASE("keystep ca provisioners lists the CA's provisioners", "[client]") {
  RunningCa ca({.password = false});
  auto r =
      require_ok(keystep({"ca", "provisioners", "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string()}),
                 "keystep ca provisioners");
  CHECK_THAT(r.out, Contains("admin"));
}

TEST_CASE("keystep certificate inspect shows a leaf's names as text and as JSON", "[client]") {
  RunningCa ca({.password = false});
  auto crt = get_certificate(ca.pki, ca.server, ca.tmp.path(), "inspect.localhost",
                             {"--san", "inspect.localhost", "--san", "127.0.0.1"});
  auto r = require_ok(keystep({"certificate", "inspect", crt.string()}), "keystep certificate inspect");
  CHECK_THAT(r.out, Contains("inspect.localhost") && Contains("127.0.0.1"));
  auto json = require_ok(keystep({"certificate", "inspect", crt.string(), "--format", "json"}), "inspect json");
  CHECK_THAT(json.out, Contains("inspect.localhost"));
}

}  // namespace
}  // namespace keystep::integration
