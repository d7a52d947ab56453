// The Dockerfile's runtime stage, checked against the binary built here: the
// packages it installs are exactly those that ship the shared libraries
// keystep links (objdump -p NEEDED, resolved with ldd and dpkg -S), apart
// from what debian:bookworm-slim already has. image_test.cc builds and runs
// the image itself.

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/harness.h"
#include "tests/support/kube_apiserver.h"

namespace keystep::integration {
namespace {

// Packages of debian:bookworm-slim that keystep may link without installing.
const std::set<std::string> kBaseImage = {"libc6", "libgcc-s1"};

std::set<std::string> words_after(const std::string& text, const std::string& marker) {
  std::set<std::string> out;
  auto at = text.find(marker);
  if (at == std::string::npos) return out;
  std::istringstream in(text.substr(at + marker.size()));
  std::string word;
  while (in >> word) {
    if (word == "\\") continue;
    if (word == "&&") break;
    if (word.rfind("-", 0) == 0) continue;  // apt flags
    out.insert(word);
  }
  return out;
}

// package_of finds the Debian package that ships a library file (trying the
// path as dpkg recorded it before the /usr merge, too).
std::string package_of(const std::string& path) {
  for (std::string candidate : {path, path.rfind("/usr", 0) == 0 ? path.substr(4) : path}) {
    auto r = run({"dpkg", "-S", candidate});
    if (r.exit_code == 0) return r.out.substr(0, r.out.find(':'));
  }
  return "";
}

TEST_CASE("the Dockerfile's runtime stage installs exactly the packages of the libraries keystep links", "[docker]") {
  const auto source = keystep::testing::KubeApiServer::source_dir();
  const std::string dockerfile = read_text(source / "Dockerfile");
  CHECK_THAT(dockerfile, Catch::Matchers::Contains("ARG BUILD_BASE=debian:bookworm\n"));
  CHECK_THAT(dockerfile, Catch::Matchers::Contains("ARG RUNTIME_BASE=debian:bookworm-slim\n"));
  const auto runtime = dockerfile.substr(dockerfile.find("FROM ${RUNTIME_BASE}"));
  REQUIRE(runtime.size() < dockerfile.size());
  const auto installed = words_after(runtime, "apt-get install");
  REQUIRE_FALSE(installed.empty());

  const std::string bin = keystep_bin().string();
  auto objdump = run({"objdump", "-p", bin});
  REQUIRE(objdump.exit_code == 0);
  auto ldd = run({"ldd", bin});
  REQUIRE(ldd.exit_code == 0);
  std::set<std::string> needed;
  std::istringstream lines(objdump.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string tag, soname;
    if (!(words >> tag >> soname) || tag != "NEEDED") continue;
    // ldd: "\tlibpq.so.5 => /lib/x86_64-linux-gnu/libpq.so.5 (0x...)"
    auto at = ldd.out.find(soname + " => ");
    INFO(soname);
    REQUIRE(at != std::string::npos);
    std::istringstream rest(ldd.out.substr(at + soname.size() + 4));
    std::string path;
    rest >> path;
    auto real = run({"readlink", "-f", path});
    const std::string pkg = package_of(without_trailing_newlines(real.out));
    INFO(path);
    REQUIRE_FALSE(pkg.empty());
    needed.insert(pkg);
  }
  for (const auto& pkg : needed) {
    INFO("keystep needs " << pkg);
    CHECK((installed.count(pkg) == 1 || kBaseImage.count(pkg) == 1));
  }
  for (const auto& pkg : installed) {
    if (pkg == "ca-certificates") continue;  // trust store, not a library
    INFO("the Dockerfile installs " << pkg << ", which keystep does not link");
    CHECK(needed.count(pkg) == 1);
  }
  CHECK_THAT(runtime, Catch::Matchers::Contains("USER 10001"));
  CHECK_THAT(runtime, Catch::Matchers::Contains("ENTRYPOINT [\"/usr/local/bin/keystep\"]"));
}

}  // namespace
}  // namespace keystep::integration
