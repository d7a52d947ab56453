// JWK provisioners with RSA and Ed25519 keys: made with `keystep crypto jwk
// create`, added to the config as public JWKs, and used through `keystep ca
// token` (RS256 and EdDSA tokens) to get certificates.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/integration/token_minter.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// check_provisioner_kind makes a `kty` provisioner key, serves a CA that
// trusts it and gets a certificate with a token it signed, whose alg must
// be expected_alg.
void check_provisioner_kind(const std::string& kty, const std::string& expected_alg) {
  const std::string name = "kind-" + kty;
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  const fs::path pub = tmp / "pub.json", priv = tmp / "priv.jwe";
  require_ok(keystep({"crypto", "jwk", "create", pub.string(), priv.string(), "--kty", kty, "--password-file",
                      pki.password_file.string()}),
             "keystep crypto jwk create --kty " + kty);
  const auto public_jwk = nlohmann::json::parse(read_text(pub));
  CHECK(public_jwk["kty"] == kty);
  CHECK_FALSE(public_jwk.contains("d"));
  append_provisioner(pki.config(), name, public_jwk);
  ServerProcess server(serve_options(pki));

  auto minted = require_ok(keystep({"ca", "token", "k.localhost", "--ca-url", server.url(), "--root",
                                    pki.root_cert().string(), "--provisioner", name, "--provisioner-key", priv.string(),
                                    "--password-file", pki.password_file.string()}),
                           "keystep ca token");
  const std::string token = without_trailing_newlines(minted.out);
  CHECK(token_header(token)["alg"] == expected_alg);
  CHECK(token_header(token)["kid"] == public_jwk["kid"]);

  require_ok(keystep({"ca", "certificate", "k.localhost", (tmp / "k.crt").string(), (tmp / "k.key").string(),
                      "--ca-url", server.url(), "--root", pki.root_cert().string(), "--token", token}),
             "keystep ca certificate --token");
  auto verified = verify_chain(pki.root_cert(), pki.intermediate_cert(), tmp / "k.crt");
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  CHECK_THAT(server.log(), Contains("certificate issued") && Contains("provisioner=" + name));
}

TEST_CASE("an RSA provisioner key from keystep crypto jwk create signs RS256 tokens the CA accepts", "[provisioner]") {
  check_provisioner_kind("RSA", "RS256");
}

TEST_CASE("an Ed25519 provisioner key from keystep crypto jwk create signs EdDSA tokens the CA accepts",
          "[provisioner]") {
  check_provisioner_kind("OKP", "EdDSA");
}

}  // namespace
}  // namespace keystep::integration
