// The other ways to make a PKI: without passwords, the split flow with an
// offline root, adopting an openssl-made PKI, name constraints; and the
// server refusing an encrypted PKI it cannot open.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

void check_verifies(const fs::path& root, const fs::path& intermediate, const fs::path& crt) {
  auto verified = verify_chain(root, intermediate, crt);
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
}

TEST_CASE("keystep init --no-password writes plain keys and a plain JSON JWK, and serves without a password",
          "[ceremony]") {
  RunningCa ca({.password = false});
  auto jwk = nlohmann::json::parse(read_text(ca.pki.provisioner_key()), nullptr, false);
  REQUIRE_FALSE(jwk.is_discarded());
  CHECK(jwk.contains("d"));
  CHECK(jwk.value("kty", "") == "EC");
  for (const auto& key : {ca.pki.root_key(), ca.pki.intermediate_key()}) {
    INFO(key);
    CHECK_THAT(read_text(key), Contains("-----BEGIN PRIVATE KEY-----"));
  }
  CHECK(read_text(ca.pki.config()).find("encryptedKey") == std::string::npos);

  auto crt = get_certificate(ca.pki, ca.server, ca.tmp.path(), "plain.localhost");
  check_verifies(ca.pki.root_cert(), ca.pki.intermediate_cert(), crt);
}

TEST_CASE("keystep serve refuses an encrypted PKI without --password-file, saying the key needs a password",
          "[ceremony]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  auto served =
      keystep({"serve", "--config", pki.config().string(), "--address", "127.0.0.1:0"}, "", std::chrono::seconds(20));
  INFO(served.describe());
  CHECK_FALSE(served.timed_out);
  CHECK(served.exit_code != 0);
  CHECK_THAT(served.err, Contains("password"));
  CHECK(served.err.find("server listening") == std::string::npos);
}

TEST_CASE("keystep serve refuses an encrypted PKI with the wrong password, saying so", "[ceremony]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  write_text(tmp / "wrong.txt", "not the password\n");
  auto served = keystep({"serve", "--config", pki.config().string(), "--password-file", (tmp / "wrong.txt").string(),
                         "--address", "127.0.0.1:0"},
                        "", std::chrono::seconds(20));
  INFO(served.describe());
  CHECK_FALSE(served.timed_out);
  CHECK(served.exit_code != 0);
  CHECK_THAT(served.err, Contains("wrong password"));
}

TEST_CASE("the split ceremony: an offline root signs the CSR of init --intermediate-csr-only and the CA issues",
          "[ceremony]") {
  TempDir tmp;
  Pki offline = init_pki(tmp, "offline", {.name = "Offline"});
  Pki online = init_pki(tmp, "online", {.name = "Online", .extra = {"--intermediate-csr-only"}});
  CHECK(fs::exists(online.intermediate_csr()));
  CHECK(fs::exists(online.intermediate_key()));
  CHECK_FALSE(fs::exists(online.root_key()));
  CHECK_FALSE(fs::exists(online.intermediate_cert()));

  const fs::path signed_crt = tmp / "intermediate_ca.crt";
  require_ok(keystep({"ca", "sign-intermediate", online.intermediate_csr().string(), signed_crt.string(), "--root-cert",
                      offline.root_cert().string(), "--root-key", offline.root_key().string(), "--password-file",
                      offline.password_file.string()}),
             "keystep ca sign-intermediate");
  const std::string inter_text = x509_text(signed_crt);
  CHECK_THAT(inter_text, Contains("Online Intermediate CA"));
  CHECK_THAT(extension(inter_text, "X509v3 Basic Constraints").value, Contains("CA:TRUE") && Contains("pathlen:0"));
  check_verifies(offline.root_cert(), "", signed_crt);

  fs::copy_file(signed_crt, online.intermediate_cert());
  fs::copy_file(offline.root_cert(), online.root_cert());
  ServerProcess server(serve_options(online));
  auto crt = get_certificate(online, server, tmp.path(), "split.localhost");
  check_verifies(offline.root_cert(), online.intermediate_cert(), crt);
}

// An openssl config for a root and a pathlen-0 intermediate, as an
// operator with an existing openssl PKI would have.
constexpr char kOpensslCa[] = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
)";

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  require_ok(run(argv), "openssl " + args.front());
}

TEST_CASE("keystep init adopts an openssl-made root and intermediate, and the CA issues under them", "[ceremony]") {
  TempDir tmp;
  const fs::path cnf = tmp / "ca.cnf";
  write_text(cnf, kOpensslCa);
  const auto f = [&](const char* name) { return (tmp / name).string(); };
  openssl({"req", "-x509", "-config", cnf.string(), "-extensions", "v3_root", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("root.key"), "-out", f("root.crt"), "-subj",
           "/CN=OpenSSL Test Root", "-days", "30"});
  openssl({"req", "-new", "-config", cnf.string(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", f("inter.key"), "-out", f("inter.csr"), "-subj", "/CN=OpenSSL Test Intermediate"});
  openssl({"x509", "-req", "-in", f("inter.csr"), "-CA", f("root.crt"), "-CAkey", f("root.key"), "-set_serial", "4242",
           "-days", "30", "-extfile", cnf.string(), "-extensions", "v3_intermediate", "-out", f("inter.crt")});

  Pki pki{.dir = tmp / "adopted"};
  auto init = keystep({"init", "--name", "Adopted", "--dns", "localhost,127.0.0.1", "--address", "127.0.0.1:0",
                       "--no-password", "--root-cert", f("root.crt"), "--intermediate-cert", f("inter.crt"),
                       "--intermediate-key", f("inter.key"), "--out", pki.dir.string()});
  INFO(init.describe());
  REQUIRE(init.exit_code == 0);
  CHECK(read_text(pki.root_cert()) == read_text(tmp / "root.crt"));
  CHECK(certificate_public_key(pki.intermediate_cert()) == certificate_public_key(tmp / "inter.crt"));
  CHECK_FALSE(fs::exists(pki.root_key()));  // adoption never sees the root key

  ServerProcess server(serve_options(pki));
  auto crt = get_certificate(pki, server, tmp.path(), "adopted.localhost");
  check_verifies(tmp / "root.crt", tmp / "inter.crt", crt);
}

TEST_CASE("keystep init --permit-dns puts name constraints in the intermediate and the CA refuses names outside",
          "[ceremony]") {
  // The CA's own names must lie inside the constraint too: its TLS
  // certificate comes from the same intermediate.
  RunningCa ca({.dns = "ca.localhost,127.0.0.1", .password = false, .extra = {"--permit-dns", ".localhost"}});
  auto nc = extension(x509_text(ca.pki.intermediate_cert()), "X509v3 Name Constraints");
  CHECK(nc.critical);
  CHECK_THAT(nc.value, Contains("Permitted") && Contains("DNS:.localhost"));

  auto inside = get_certificate(ca.pki, ca.server, ca.tmp.path(), "app.localhost");
  check_verifies(ca.pki.root_cert(), ca.pki.intermediate_cert(), inside);
  const auto issued = ca.server.count("certificate issued");

  auto outside =
      keystep(ca_certificate_args(ca.pki, ca.server, "web.example.com", ca.tmp / "out.crt", ca.tmp / "out.key"));
  INFO(outside.describe());
  CHECK(outside.exit_code == 1);
  CHECK_THAT(outside.err, Contains("403") && Contains("name constraints"));
  CHECK_FALSE(fs::exists(ca.tmp / "out.crt"));
  CHECK(ca.server.count("certificate issued") == issued);
}

TEST_CASE("keystep init refuses name constraints that exclude the CA's own names and writes no PKI", "[ceremony]") {
  TempDir tmp;
  const auto out = tmp / "pki";
  auto r = keystep({"init", "--name", "X", "--dns", "ca.example.com,127.0.0.1", "--no-password", "--out", out.string(),
                    "--permit-dns", ".internal"});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("could not serve its own names") && Contains("name constraints"));
  CHECK_FALSE(fs::exists(out / "config" / "keystep.yaml"));
  CHECK_FALSE(fs::exists(out / "secrets" / "intermediate_ca_key"));
  CHECK_FALSE(fs::exists(out / "secrets" / "root_ca_key"));
}

}  // namespace
}  // namespace keystep::integration
