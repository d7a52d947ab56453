// The lifecycle commands as a user runs them: keystep ca renew --daemon
// keeping a short-lived certificate fresh, keystep ca revoke, and keystep
// ca crl, with openssl as the verifier.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "issuer/crypto/certificate.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// Background runs keystep with args, output appended to log; stop() sends
// SIGTERM and returns the exit status (the destructor kills it if needed).
class Background {
 public:
  Background(const std::vector<std::string>& args, const fs::path& log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<std::string> argv{keystep_bin().string()};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    if (pid_ < 0) throw HarnessError("fork failed");
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw HarnessError("the background command did not stop within 10 s");
  }

 private:
  pid_t pid_ = -1;
};

std::string serial_of(const fs::path& crt) { return crypto::Certificate::from_pem(read_text(crt))->serial_decimal(); }

// ShortLivedCa allows certificates of seconds and does not backdate them.
struct ShortLivedCa : RunningCa {
  explicit ShortLivedCa(bool allow_renewal_after_expiry = false)
      : RunningCa({.password = false}, [allow_renewal_after_expiry](const Pki& pki) {
          std::string text = read_text(pki.config());
          auto at = text.find("minDuration: 5m");
          if (at == std::string::npos) throw HarnessError("init's config has no minDuration: 5m");
          text.replace(at, 15, allow_renewal_after_expiry ? "minDuration: 5s\n  allowRenewalAfterExpiry: true"
                                                          : "minDuration: 5s");
          write_text(pki.config(), text + "backdate: 0s\n");
        }) {}
};

TEST_CASE("keystep ca renew --daemon keeps a short-lived certificate fresh and runs --exec", "[cli-lifecycle]") {
  ShortLivedCa ca;
  const fs::path crt = get_certificate(ca.pki, ca.server, ca.tmp.path(), "svc.localhost", {"--not-after", "12s"});
  const fs::path key = crt.parent_path() / "svc.localhost.key";
  const std::string first = serial_of(crt);
  const fs::path hook_log = ca.tmp / "hook.log";
  Background daemon({"ca", "renew", crt.string(), key.string(), "--ca-url", ca.server.url(), "--root",
                     ca.pki.root_cert().string(), "--force", "--daemon", "--exec", "echo renewed >> " + hook_log.string()},
                    ca.tmp / "daemon.log");
  // 12 s certificates renew about every 8 s: wait (at most 40 s) for two.
  auto renewals = [&] {
    if (!fs::exists(hook_log)) return std::size_t{0};
    std::string text = read_text(hook_log);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  for (int i = 0; i < 400 && renewals() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(read_text(ca.tmp / "daemon.log"));
  CHECK(renewals() >= 2);
  CHECK(daemon.stop() == 0);
  CHECK(serial_of(crt) != first);
  CHECK(ca.server.count("certificate renewed") >= 2);
  auto verified = verify_chain(ca.pki.root_cert(), ca.pki.intermediate_cert(), crt);
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
}

TEST_CASE("an expired certificate renews only where the claims allow renewal after expiry", "[cli-lifecycle]") {
  for (bool allowed : {false, true}) {
    ShortLivedCa ca(allowed);
    INFO("allowRenewalAfterExpiry: " << allowed);
    const fs::path crt = get_certificate(ca.pki, ca.server, ca.tmp.path(), "old.localhost", {"--not-after", "5s"});
    const fs::path key = crt.parent_path() / "old.localhost.key";
    const auto not_after = crypto::Certificate::from_pem(read_text(crt))->not_after();
    while (std::chrono::system_clock::now() < not_after + std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    // Expired: keystep ca renew falls back to the Bearer token on its own.
    auto renewed = keystep({"ca", "renew", crt.string(), key.string(), "--ca-url", ca.server.url(), "--root",
                            ca.pki.root_cert().string(), "--force"});
    INFO(renewed.describe());
    if (allowed) {
      CHECK(renewed.exit_code == 0);
      CHECK(crypto::Certificate::from_pem(read_text(crt))->not_after() > std::chrono::system_clock::now());
    } else {
      CHECK(renewed.exit_code == 1);
      CHECK_THAT(renewed.err, Contains("401") && Contains("expired"));
      CHECK(ca.server.count("certificate renewed") == 0);
    }
  }
}

TEST_CASE("keystep ca revoke with a provisioner key, then keystep ca crl shows the serial", "[cli-lifecycle]") {
  RunningCa ca({.password = false});
  const fs::path crt = get_certificate(ca.pki, ca.server, ca.tmp.path(), "gone.localhost");
  const std::string serial = serial_of(crt);
  auto revoked = keystep({"ca", "revoke", serial, "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string(),
                          "--reason-name", "superseded", "--provisioner", "admin", "--provisioner-key",
                          ca.pki.provisioner_key().string()});
  INFO(revoked.describe());
  REQUIRE(revoked.exit_code == 0);
  CHECK_THAT(revoked.out, Contains(serial));
  auto again = keystep({"ca", "revoke", serial, "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string(),
                        "--provisioner", "admin", "--provisioner-key", ca.pki.provisioner_key().string()});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Contains("already revoked"));

  const fs::path crl = ca.tmp / "ca.crl";
  auto fetched = keystep({"ca", "crl", crl.string(), "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string()});
  INFO(fetched.describe());
  REQUIRE(fetched.exit_code == 0);
  auto text = run({"openssl", "crl", "-in", crl.string(), "-inform", "DER", "-noout", "-text"});
  auto hex = run({"openssl", "x509", "-in", crt.string(), "-noout", "-serial"});
  CHECK_THAT(text.out, Contains(hex.out.substr(hex.out.find('=') + 1, 16)) && Contains("Superseded"));
}

}  // namespace
}  // namespace keystep::integration
