// Command-line usage of the keystep binary: --help on every command, and
// usage errors (unknown flag, missing required flag) exit 2 naming the flag.

#include <catch2/catch.hpp>

#include <sstream>

#include "tests/integration/harness.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

// commands lists the commands `keystep --help` shows ("ca certificate", ...).
std::vector<std::string> commands() {
  auto help = keystep({"--help"});
  if (help.exit_code != 0) throw HarnessError("keystep --help failed: " + help.describe());
  std::vector<std::string> out;
  std::istringstream in(help.out);
  bool listing = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "Commands:") {
      listing = true;
      continue;
    }
    if (!listing) continue;
    if (line.rfind("  ", 0) != 0) break;
    const auto end = line.find("  ", 2);
    out.push_back(line.substr(2, end == std::string::npos ? std::string::npos : end - 2));
  }
  return out;
}

std::vector<std::string> words(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(command);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST_CASE("keystep --help lists every command of the product", "[cli]") {
  auto listed = commands();
  for (const char* expected :
       {"init", "serve", "ca sign-intermediate", "ca certificate", "ca token", "ca health", "ca root",
        "ca provisioners", "certificate fingerprint", "certificate inspect", "crypto jwk create"}) {
    INFO(expected);
    CHECK(std::find(listed.begin(), listed.end(), expected) != listed.end());
  }
}

TEST_CASE("keystep without a command prints the overview and exits 2", "[cli]") {
  auto r = keystep({});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out + r.err, Contains("Usage: keystep"));
}

TEST_CASE("keystep with an unknown command exits 2 naming it", "[cli]") {
  auto r = keystep({"frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("frobnicate"));
}

TEST_CASE("--help on every command exits 0 and prints its usage", "[cli]") {
  for (const auto& command : commands()) {
    INFO(command);
    auto args = words(command);
    args.push_back("--help");
    auto r = keystep(args);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, StartsWith("Usage: keystep " + command));
    CHECK(r.err.empty());
  }
}

TEST_CASE("an unknown flag on every command exits 2 naming the flag", "[cli]") {
  for (const auto& command : commands()) {
    INFO(command);
    auto args = words(command);
    args.push_back("--no-such-flag");
    auto r = keystep(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--no-such-flag"));
  }
}

// MissingFlag is a command line that leaves out one required flag.
struct MissingFlag {
  std::vector<std::string> args;
  std::string flag;
};

// check_missing_flags runs each command line and requires exit status 2
// with the missing flag named on stderr.
void check_missing_flags(const std::vector<MissingFlag>& cases) {
  for (const auto& c : cases) {
    std::string command;
    for (const auto& a : c.args) command += a + " ";
    INFO(command << "(no " << c.flag << ")");
    auto r = keystep(c.args);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(c.flag));
  }
}

TEST_CASE("keystep init without a required flag exits 2 naming the flag and writes nothing", "[cli]") {
  TempDir tmp;
  const std::string out = (tmp / "out").string();
  check_missing_flags({
      {{"init", "--dns", "localhost", "--no-password", "--out", out}, "--name"},
      {{"init", "--name", "X", "--no-password", "--out", out}, "--dns"},
      {{"init", "--name", "X", "--dns", "localhost", "--no-password"}, "--out"},
  });
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("keystep serve without --config exits 2 naming the flag", "[cli]") {
  check_missing_flags({{{"serve"}, "--config"}});
}

TEST_CASE("keystep ca sign-intermediate without the root exits 2 naming the flag", "[cli]") {
  TempDir tmp;
  const std::string absent = (tmp / "absent").string(), out = (tmp / "out.crt").string();
  check_missing_flags({
      {{"ca", "sign-intermediate", absent, out, "--root-key", absent}, "--root-cert"},
      {{"ca", "sign-intermediate", absent, out, "--root-cert", absent}, "--root-key"},
  });
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("the client commands without a required flag exit 2 naming the flag", "[cli]") {
  TempDir tmp;
  const std::string absent = (tmp / "absent").string(), out = (tmp / "out").string();
  const std::string url = "https://localhost:9000";
  check_missing_flags({
      {{"ca", "certificate", "a", out, out, "--root", absent, "--provisioner", "admin", "--provisioner-key", absent},
       "--ca-url"},
      {{"ca", "certificate", "a", out, out, "--ca-url", url, "--provisioner", "admin", "--provisioner-key", absent},
       "--root"},
      {{"ca", "certificate", "a", out, out, "--ca-url", url, "--root", absent, "--provisioner", "admin"},
       "--provisioner-key"},
      {{"ca", "token", "a", "--provisioner", "admin", "--provisioner-key", absent}, "--ca-url"},
      {{"ca", "token", "a", "--ca-url", url, "--provisioner-key", absent}, "--provisioner"},
      {{"ca", "health", "--root", absent}, "--ca-url"},
      {{"ca", "health", "--ca-url", url}, "--root"},
      {{"ca", "root", out, "--ca-url", url}, "--fingerprint"},
      {{"ca", "provisioners", "--ca-url", url}, "--root"},
      {{"crypto", "jwk", "create", out, out}, "--password-file"},
  });
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("a missing positional argument exits 2 with the usage", "[cli]") {
  for (const auto& command : {"certificate fingerprint", "certificate inspect", "ca token", "ca certificate"}) {
    INFO(command);
    auto r = keystep(words(command));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("usage: keystep " + std::string(command)));
  }
}

}  // namespace
}  // namespace keystep::integration
