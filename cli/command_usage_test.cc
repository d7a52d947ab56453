// Usage errors and help of the client commands: what a user sees before any
// file is read or any connection is made.

#include <fstream>

#include <catch2/catch.hpp>

#include "cli/commands.h"
#include "cli/provisioner_key.h"
#include "cli/testing_run_command.h"
#include "cli/testing_temp_dir.h"

using namespace keystep;
using namespace keystep::cli;

namespace {

using testing::Outcome;
using testing::with;

Outcome run(const Command& command, const std::vector<std::string>& argv) {
  return testing::run_command(command, argv);
}

bool mentions(const Outcome& o, const std::string& text) { return o.mentions(text); }

const std::vector<std::string> kCertificateArgs = {
    "web.internal", "web.crt", "web.key", "--ca-url", "https://ca.internal:9000", "--root", "root.crt"};

}  // namespace

TEST_CASE("every client command's help has a summary, an example and each flag", "[cli]") {
  for (auto make :
       {ca_certificate_command, ca_token_command, ca_health_command, ca_root_command, ca_provisioners_command,
        ca_renew_command, ca_revoke_command, ca_crl_command, certificate_fingerprint_command,
        certificate_inspect_command, crypto_jwk_create_command}) {
    const Command command = make();
    INFO(command.spec.path);
    const std::string help = help_text(command.spec);
    CHECK(help.rfind("Usage: keystep " + command.spec.path, 0) == 0);
    CHECK_FALSE(command.spec.summary.empty());
    CHECK(help.find("Example:\n  keystep " + command.spec.path) != std::string::npos);
    for (const auto& flag : command.spec.flags) {
      CHECK(help.find("--" + flag.name) != std::string::npos);
      CHECK_FALSE(flag.help.empty());
    }
  }
}

TEST_CASE("ca certificate names the flag that is missing or wrong", "[cli]") {
  const Command command = ca_certificate_command();
  auto no_url = run(command, {"web.internal", "web.crt", "web.key", "--root", "root.crt", "--token", "t"});
  CHECK(no_url.status == kExitUsage);
  CHECK(mentions(no_url, "flag --ca-url is required"));

  auto http = run(command, {"a", "b", "c", "--ca-url", "http://ca", "--root", "r", "--token", "t"});
  CHECK(http.status == kExitUsage);
  CHECK(mentions(http, "flag --ca-url: \"http://ca\" is not an https:// URL"));

  auto no_root = run(command, {"a", "b", "c", "--ca-url", "https://ca", "--token", "t"});
  CHECK(mentions(no_root, "flag --root is required"));

  auto no_auth = run(command, kCertificateArgs);
  CHECK(no_auth.status == kExitUsage);
  CHECK(mentions(no_auth, "give --provisioner with --provisioner-key, or --token"));

  auto both = run(command, with(kCertificateArgs, {"--token", "t", "--provisioner", "admin"}));
  CHECK(both.status == kExitUsage);
  CHECK(mentions(both, "give --token or --provisioner, not both"));

  auto no_key = run(command, with(kCertificateArgs, {"--provisioner", "admin"}));
  CHECK(mentions(no_key, "flag --provisioner-key is required"));

  auto bad_after = run(command, with(kCertificateArgs, {"--token", "t", "--not-after", "tomorrow"}));
  CHECK(bad_after.status == kExitUsage);
  CHECK(mentions(bad_after, "flag --not-after: \"tomorrow\" is neither an RFC 3339 time nor a duration"));

  auto bad_before = run(command, with(kCertificateArgs, {"--token", "t", "--not-before", "2026-13-01T00:00:00Z"}));
  CHECK(mentions(bad_before, "flag --not-before: invalid RFC 3339 time"));

  auto bad_kty = run(command, with(kCertificateArgs, {"--token", "t", "--kty", "DSA"}));
  CHECK(mentions(bad_kty, "flag --kty"));
  auto bad_size = run(command, with(kCertificateArgs, {"--token", "t", "--kty", "RSA", "--size", "big"}));
  CHECK(mentions(bad_size, "flag --size"));
  auto curve_for_rsa = run(command, with(kCertificateArgs, {"--token", "t", "--kty", "RSA", "--crv", "P-256"}));
  CHECK(mentions(curve_for_rsa, "flag --crv"));
}

TEST_CASE("ca certificate refuses to overwrite CRT or KEY without --force", "[cli]") {
  testing::TempDir dir;
  { std::ofstream existing(dir.file("web.key")); }
  auto outcome = run(ca_certificate_command(), {"web.internal", dir.file("web.crt"), dir.file("web.key"), "--ca-url",
                                                "https://ca.internal", "--root", "root.crt", "--token", "t"});
  CHECK(outcome.status == kExitFailure);
  CHECK(mentions(outcome, dir.file("web.key") + " already exists: give --force to overwrite it"));
}

TEST_CASE("ca token checks its flags before reading the key", "[cli]") {
  const Command command = ca_token_command();
  const std::vector<std::string> base = {"web.internal", "--ca-url",          "https://ca.internal", "--provisioner",
                                         "admin",        "--provisioner-key", "absent.jwk"};
  auto revoke_san = run(command, with(base, {"--revoke", "--san", "a.internal"}));
  CHECK(revoke_san.status == kExitUsage);
  CHECK(mentions(revoke_san, "flag --san cannot be used with --revoke"));

  auto short_life = run(command, with(base, {"--token-lifetime", "5s"}));
  CHECK(short_life.status == kExitUsage);
  CHECK(mentions(short_life, "flag --token-lifetime: \"5s\" is not between 10s and 1h"));

  auto bad_life = run(command, with(base, {"--token-lifetime", "soon"}));
  CHECK(mentions(bad_life, "flag --token-lifetime: "));

  auto no_subject = run(command, {"--ca-url", "https://ca.internal"});
  CHECK(no_subject.status == kExitUsage);

  auto absent_key = run(command, base);
  CHECK(absent_key.status == kExitFailure);
  CHECK(mentions(absent_key, "absent.jwk"));
}

TEST_CASE("ca root wants a SHA-256 fingerprint", "[cli]") {
  auto outcome = run(ca_root_command(), {"root.crt", "--ca-url", "https://ca", "--fingerprint", "abc"});
  CHECK(outcome.status == kExitUsage);
  CHECK(mentions(outcome, "flag --fingerprint: \"abc\" is not a SHA-256 fingerprint"));
  auto missing = run(ca_root_command(), {"root.crt", "--ca-url", "https://ca"});
  CHECK(mentions(missing, "flag --fingerprint is required"));
}

TEST_CASE("ca health and ca provisioners require --root", "[cli]") {
  for (auto make : {ca_health_command, ca_provisioners_command}) {
    auto outcome = run(make(), {"--ca-url", "https://ca"});
    CHECK(outcome.status == kExitUsage);
    CHECK(mentions(outcome, "flag --root is required"));
  }
}

TEST_CASE("certificate inspect accepts text or json only", "[cli]") {
  auto outcome = run(certificate_inspect_command(), {"web.crt", "--format", "yaml"});
  CHECK(outcome.status == kExitUsage);
  CHECK(mentions(outcome, "flag --format: use text or json, not \"yaml\""));
}

TEST_CASE("crypto jwk create needs exactly one of --password-file and --no-password", "[cli]") {
  const Command command = crypto_jwk_create_command();
  CHECK(run(command, {"pub.json", "priv.json"}).status == kExitUsage);
  auto both = run(command, {"pub.json", "priv.json", "--password-file", "pw", "--no-password"});
  CHECK(both.status == kExitUsage);
  CHECK(mentions(both, "give exactly one of --password-file and --no-password"));
}

TEST_CASE("crypto jwk create writes keys that load_provisioner_key reads", "[cli]") {
  testing::TempDir dir;
  const std::string pub = dir.file("admin.pub.json");
  const std::string plain = dir.file("admin.json");
  REQUIRE(run(crypto_jwk_create_command(), {pub, plain, "--no-password", "--kty", "OKP"}).status == 0);
  auto key = load_provisioner_key(plain, nullptr);
  REQUIRE(key);
  CHECK(key->alg() == "EdDSA");
  CHECK((std::filesystem::status(plain).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  auto again = run(crypto_jwk_create_command(), {pub, plain, "--no-password"});
  CHECK(again.status == kExitFailure);
  CHECK(mentions(again, "already exists"));

  // Encrypted with step's 600000 PBKDF2 iterations: about half a second.
  const std::string password_file = dir.file("password.txt");
  { std::ofstream(password_file) << "correct horse\n"; }
  const std::string jwe = dir.file("admin.jwe");
  REQUIRE(run(crypto_jwk_create_command(), {pub, jwe, "--password-file", password_file, "--force"}).status == 0);
  const crypto::SecretBytes password("correct horse");
  auto decrypted = load_provisioner_key(jwe, &password);
  REQUIRE(decrypted);
  CHECK(decrypted->alg() == "ES256");
}
