// cert-manager's own ACME client library, golang.org/x/crypto/acme, against
// a real `keystep serve`: hack/acme-xcrypto (built from Debian's Go
// packages) runs the flow cert-manager's ACME issuer runs (register,
// order, http-01, finalize with a fresh P-256 CSR, download) and revokes
// with the account key. Once against one server (SQLite), once against two
// replicas on one PostgreSQL with every connection going to the next
// replica, as behind a Service in front of several pods.
//
// The binary is $KEYSTEP_ACME_XCRYPTO (hack/test.sh builds it before ctest),
// else `hack/acme-xcrypto.sh --build`; a missing binary fails the test.

#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "tests/integration/acme_clients_fixture.h"
#include "tests/integration/acme_replicas_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// kBuildTimeout bounds `hack/acme-xcrypto.sh --build` (about 25 s on 2 cores).
constexpr std::chrono::seconds kBuildTimeout{300};

fs::path source_dir() {
  const char* env = std::getenv("KEYSTEP_SOURCE_DIR");
  if (env != nullptr && *env != '\0') return env;
  return KEYSTEP_SOURCE_DIR;
}

// acme_xcrypto_bin is $KEYSTEP_ACME_XCRYPTO, else what
// `hack/acme-xcrypto.sh --build` printed; throws HarnessError otherwise.
fs::path acme_xcrypto_bin() {
  static fs::path found;
  if (!found.empty()) return found;
  fs::path bin;
  const char* env = std::getenv("KEYSTEP_ACME_XCRYPTO");
  if (env != nullptr && *env != '\0') {
    bin = env;
  } else {
    const fs::path script = source_dir() / "hack" / "acme-xcrypto.sh";
    auto built = run({script.string(), "--build"}, "", kBuildTimeout);
    if (built.exit_code != 0) throw HarnessError(script.string() + " --build failed: " + built.describe());
    bin = without_trailing_newlines(built.out);
  }
  if (::access(bin.c_str(), X_OK) != 0 || !fs::is_regular_file(bin)) {
    throw HarnessError("acme-xcrypto binary " + bin.string() +
                       " is not an executable file: set KEYSTEP_ACME_XCRYPTO to the path "
                       "`hack/acme-xcrypto.sh --build` prints (hack/test.sh does)");
  }
  found = bin;
  return found;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> issue_args(const std::string& directory, const fs::path& root, unsigned short http01_port,
                                    const std::vector<std::string>& names, const fs::path& dir) {
  return {"--directory", directory, "--ca-bundle", root.string(), "--http01-addr",
          "127.0.0.1:" + std::to_string(http01_port), "--domains", join(names), "--out", (dir / "chain.pem").string(),
          "--key-out", (dir / "key.pem").string(), "--revoke"};
}

// acme_events is how many of the ACME lines the flow makes a replica log.
std::size_t acme_events(const ServerProcess& server) {
  std::size_t n = 0;
  for (const char* line : {"acme account created", "acme order created", "acme challenge started",
                           "acme order valid", "certificate revoked"}) {
    n += server.count(line);
  }
  return n;
}

TEST_CASE("x/crypto/acme issues and revokes over http-01", "[acme][acme-xcrypto]") {
  ensure_acme_hosts();
  const fs::path bin = acme_xcrypto_bin();
  const unsigned short port = static_cast<unsigned short>(testing::free_loopback_port());
  AcmeCa acme({.challenges = {"http-01"}, .http01_port = port});
  ClientSession session(acme, bin.string());
  TempDir work;
  const std::vector<std::string> names = {"localhost", kNameA};

  session.require(issue_args(acme.directory_url(), acme.ca.pki.root_cert(), port, names, work.path()),
                  "issue and revoke");
  INFO(session.report());
  const Issued issued = require_issued(session, work / "chain.pem", names, work.path(), "leaf", work / "key.pem");
  CHECK(valid_challenges(acme, "http-01") == names.size());
  CHECK(acme.ca.server.count("acme order valid") == 1);
  require_revoked(session, issued, work.path());
}

TEST_CASE("x/crypto/acme issues across two replicas", "[acme][acme-xcrypto][acme-replicas]") {
  ensure_acme_hosts();
  const fs::path bin = acme_xcrypto_bin();
  testing::PostgresServer postgres;
  const unsigned short port = static_cast<unsigned short>(testing::free_loopback_port());
  AcmeReplicas r(postgres, port);
  const std::vector<std::string> names = {"localhost", kNameA};
  const std::string replicas =
      "127.0.0.1:" + std::to_string(r.servers[0]->port()) + ",127.0.0.1:" + std::to_string(r.servers[1]->port());

  auto args = issue_args(r.directory_url(), r.pki.root_cert(), port, names, r.tmp.path());
  args.insert(args.end(), {"--replicas", replicas});
  args.insert(args.begin(), bin.string());
  const RunResult result = run(args, "", kClientTimeout);
  INFO("acme-xcrypto " << result.describe() << "\n--- replica a ---\n"
                       << r.servers[0]->log() << "\n--- replica b ---\n"
                       << r.servers[1]->log());
  REQUIRE(result.exit_code == 0);
  // The client dialed both replicas...
  CHECK_THAT(result.err, Contains("connecting to replica 127.0.0.1:" + std::to_string(r.servers[0]->port())));
  CHECK_THAT(result.err, Contains("connecting to replica 127.0.0.1:" + std::to_string(r.servers[1]->port())));

  // ...and both served part of the flow, which happened once in all.
  CHECK(acme_events(*r.servers[0]) > 0);
  CHECK(acme_events(*r.servers[1]) > 0);
  CHECK(r.count("acme account created") == 1);
  CHECK(r.count("acme order created") == 1);
  CHECK(r.count("acme challenge started") == names.size());
  CHECK(r.count("acme order valid") == 1);
  CHECK(r.count("certificate revoked") == 1);

  REQUIRE(split_pem_chain(r.tmp / "chain.pem", r.tmp.path(), "chain") >= 2);
  auto verified = verify_chain(r.pki.root_cert(), r.tmp / "chain-1.crt", r.tmp / "chain-0.crt");
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  const std::string san = extension(x509_text(r.tmp / "chain-0.crt"), "X509v3 Subject Alternative Name").value;
  std::size_t dns = 0;
  for (auto at = san.find("DNS:"); at != std::string::npos; at = san.find("DNS:", at + 1)) ++dns;
  CHECK(dns == names.size());
  for (const auto& name : names) CHECK_THAT(san + ",", Contains("DNS:" + name + ","));
  CHECK(certificate_public_key(r.tmp / "chain-0.crt") == private_key_public_key(r.tmp / "key.pem"));
}

}  // namespace
}  // namespace keystep::integration
