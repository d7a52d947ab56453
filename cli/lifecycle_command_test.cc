// Usage errors of `keystep ca renew`, `ca revoke` and `ca crl`, and the
// failures they find in local files before any connection is made.

#include <fstream>

#include <catch2/catch.hpp>

#include "cli/client_identity.h"
#include "cli/commands.h"
#include "cli/testing_run_command.h"
#include "cli/testing_temp_dir.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::cli;
using keystep::cli::testing::run_command;
using keystep::cli::testing::with;

namespace {

const std::vector<std::string> kCa = {"--ca-url", "https://ca.internal:9000", "--root", "root.crt"};

// Files holds a root, a leaf for `key` and the key, written to a TempDir.
struct Files {
  keystep::cli::testing::TempDir dir;
  std::string root, crt, key, other_key;
  std::string serial;

  Files() : root(dir.file("root.crt")), crt(dir.file("web.crt")), key(dir.file("web.key")),
            other_key(dir.file("other.key")) {
    auto pki = keystep::testing::make_pki();
    auto key_pair = keystep::testing::make_key();
    auto leaf = keystep::testing::make_ca_cert(key_pair.get(), "web.internal", nullptr, key_pair.get(), 0);
    serial = leaf.serial_decimal();
    std::ofstream(root) << pki.root_pem;
    std::ofstream(crt) << leaf.pem();
    std::ofstream(key) << crypto::private_key_to_pem(key_pair.get())->view();
    auto other = keystep::testing::make_key();
    std::ofstream(other_key) << crypto::private_key_to_pem(other.get())->view();
  }
};

}  // namespace

TEST_CASE("Args::get_bool tells --flag=false from an absent flag", "[cli]") {
  const CommandSpec spec{.path = "x", .flags = {{.name = "mtls", .takes_value = false}}};
  CHECK(Args::parse(spec, {})->get_bool("mtls", true));
  CHECK_FALSE(Args::parse(spec, {})->get_bool("mtls", false));
  CHECK_FALSE(Args::parse(spec, {"--mtls=false"})->get_bool("mtls", true));
  CHECK_FALSE(Args::parse(spec, {"--mtls=false"})->has("mtls"));
  CHECK(Args::parse(spec, {"--mtls=true"})->get_bool("mtls", false));
  CHECK(Args::parse(spec, {"--mtls"})->get_bool("mtls", false));
}

TEST_CASE("ca renew wants --force or --out", "[cli][renew]") {
  auto outcome = run_command(ca_renew_command(), with({"web.crt", "web.key"}, kCa));
  CHECK(outcome.status == kExitUsage);
  CHECK(outcome.mentions("keystep ca renew: use --force to overwrite web.crt or --out to write elsewhere"));
}

TEST_CASE("ca renew names the flag that is wrong", "[cli][renew]") {
  const Command command = ca_renew_command();
  const auto base = with({"web.crt", "web.key", "--force"}, kCa);
  auto no_url = run_command(command, {"web.crt", "web.key", "--force", "--root", "root.crt"});
  CHECK(no_url.status == kExitUsage);
  CHECK(no_url.mentions("flag --ca-url is required"));

  auto bad_expiry = run_command(command, with(base, {"--expires-in", "soon"}));
  CHECK(bad_expiry.status == kExitUsage);
  CHECK(bad_expiry.mentions("flag --expires-in: "));

  auto tiny_period = run_command(command, with(base, {"--daemon", "--renew-period", "10ms"}));
  CHECK(tiny_period.status == kExitUsage);
  CHECK(tiny_period.mentions("flag --renew-period: \"10ms\" is shorter than 1s"));

  auto period_once = run_command(command, with(base, {"--renew-period", "1h"}));
  CHECK(period_once.status == kExitUsage);
  CHECK(period_once.mentions("flag --renew-period needs --daemon"));

  auto mtls_value = run_command(command, with(base, {"--mtls=no"}));
  CHECK(mtls_value.status == kExitUsage);
  CHECK(mtls_value.mentions("flag --mtls takes no value"));
}

TEST_CASE("ca renew checks CRT, KEY and --out before calling the CA", "[cli][renew]") {
  Files f;
  const std::vector<std::string> ca = {"--ca-url", "https://ca.internal:9000", "--root", f.root};

  auto other_key = run_command(ca_renew_command(), with({f.crt, f.other_key, "--force"}, ca));
  CHECK(other_key.status == kExitFailure);
  CHECK(other_key.mentions(f.other_key + " is not the private key of the certificate in " + f.crt));

  auto missing = run_command(ca_renew_command(), with({f.dir.file("absent.crt"), f.key, "--force"}, ca));
  CHECK(missing.status == kExitFailure);
  CHECK(missing.mentions("absent.crt"));

  auto existing_out = run_command(ca_renew_command(), with({f.crt, f.key, "--out", f.root}, ca));
  CHECK(existing_out.status == kExitFailure);
  CHECK(existing_out.mentions(f.root + " already exists: give --force to overwrite it"));
}

TEST_CASE("read_client_identity reads the chain and its key", "[cli][renew]") {
  Files f;
  auto identity = read_client_identity(f.crt, f.key);
  REQUIRE(identity);
  CHECK(identity->chain.size() == 1);
  CHECK(identity->leaf().serial_decimal() == f.serial);
  CHECK(identity->key_pem.view().rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK_FALSE(read_client_identity(f.crt, f.other_key));
  CHECK_FALSE(read_client_identity(f.key, f.key));
}

TEST_CASE("ca revoke wants exactly one way to authorize", "[cli][revoke]") {
  const Command command = ca_revoke_command();
  auto none = run_command(command, with({"10"}, kCa));
  CHECK(none.status == kExitUsage);
  CHECK(none.mentions("give one of --token, --provisioner with --provisioner-key, or --cert with --key"));

  auto two = run_command(command, with({"10", "--token", "t", "--cert", "web.crt", "--key", "web.key"}, kCa));
  CHECK(two.status == kExitUsage);

  auto no_key = run_command(command, with({"10", "--cert", "web.crt"}, kCa));
  CHECK(no_key.mentions("flag --key is required"));

  auto no_serial = run_command(command, with({"--token", "t"}, kCa));
  CHECK(no_serial.status == kExitUsage);
  CHECK(no_serial.mentions("missing SERIAL"));
}

TEST_CASE("ca revoke checks the serial and the reason", "[cli][revoke]") {
  const Command command = ca_revoke_command();
  const auto base = with({"--token", "t"}, kCa);
  auto bad_serial = run_command(command, with({"12ab"}, base));
  CHECK(bad_serial.status == kExitUsage);
  CHECK(bad_serial.mentions("\"12ab\" is not a serial number"));

  auto code_7 = run_command(command, with({"10", "--reason-code", "7"}, base));
  CHECK(code_7.status == kExitUsage);
  CHECK(code_7.mentions("flag --reason-code: 7 is not an RFC 5280 reason code"));

  auto code_text = run_command(command, with({"10", "--reason-code", "key"}, base));
  CHECK(code_text.mentions("flag --reason-code: \"key\" is not a number"));

  auto bad_name = run_command(command, with({"10", "--reason-name", "stolen"}, base));
  CHECK(bad_name.status == kExitUsage);
  CHECK(bad_name.mentions("flag --reason-name: \"stolen\" is not one of unspecified (0), keyCompromise (1)"));

  auto both = run_command(command, with({"10", "--reason-name", "superseded", "--reason-code", "4"}, base));
  CHECK(both.mentions("give --reason-code or --reason-name, not both"));
}

TEST_CASE("ca revoke --cert refuses a certificate of another serial", "[cli][revoke]") {
  Files f;
  auto outcome = run_command(ca_revoke_command(), {"0x1", "--cert", f.crt, "--key", f.key, "--ca-url",
                                                   "https://ca.internal:9000", "--root", f.root});
  CHECK(outcome.status == kExitFailure);
  CHECK(outcome.mentions("the certificate in " + f.crt + " has serial number " + f.serial + ", not 1"));
}

TEST_CASE("ca crl allows plain http only with --insecure-http", "[cli][crl]") {
  const Command command = ca_crl_command();
  auto http = run_command(command, {"ca.crl", "--ca-url", "http://ca.internal:8080"});
  CHECK(http.status == kExitUsage);
  CHECK(http.mentions("flag --ca-url: \"http://ca.internal:8080\" is plain http: give --insecure-http"));

  auto https_insecure = run_command(command, with({"ca.crl", "--insecure-http"}, kCa));
  CHECK(https_insecure.status == kExitUsage);
  CHECK(https_insecure.mentions("flag --insecure-http is only for an http:// --ca-url"));

  auto no_root = run_command(command, {"ca.crl", "--ca-url", "https://ca.internal:9000"});
  CHECK(no_root.status == kExitUsage);
  CHECK(no_root.mentions("flag --root is required"));

  keystep::cli::testing::TempDir dir;
  { std::ofstream existing(dir.file("ca.crl")); }
  auto exists =
      run_command(command, {dir.file("ca.crl"), "--ca-url", "http://ca.internal:8080", "--insecure-http"});
  CHECK(exists.status == kExitFailure);
  CHECK(exists.mentions("already exists: give --force to overwrite it"));
}
