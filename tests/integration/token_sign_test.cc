// The token flow a script would use: `keystep ca token` mints a token, curl
// posts it with an openssl-made CSR to /1.0/sign, openssl verifies the
// chain that comes back. Also pins the token's shape (reference §2.2).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/integration/token_minter.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::Matches;

std::vector<std::string> ca_token_args(const RunningCa& ca, const std::string& subject,
                                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"ca", "token", subject, "--ca-url", ca.server.url()};
  args.insert(args.end(), {"--root", ca.pki.root_cert().string(), "--provisioner", "admin"});
  args.insert(args.end(), {"--provisioner-key", ca.pki.provisioner_key().string()});
  args.insert(args.end(), {"--password-file", ca.pki.password_file.string()});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST_CASE("keystep ca token prints only a token shaped as step's, signed by the provisioner's encrypted key",
          "[token]") {
  RunningCa ca;
  auto minted = require_ok(keystep(ca_token_args(ca, "x.localhost", {"--san", "x.localhost", "--san", "10.0.0.1"})),
                           "keystep ca token");
  const std::string token = without_trailing_newlines(minted.out);
  CHECK(std::count(token.begin(), token.end(), '.') == 2);
  CHECK(token.find('\n') == std::string::npos);

  auto header = token_header(token);
  CHECK(header == nlohmann::json{{"alg", "ES256"}, {"kid", header.value("kid", "")}, {"typ", "JWT"}});
  auto config_kid = read_text(ca.pki.config()).find("\"kid\":" + nlohmann::json(header.value("kid", "")).dump());
  CHECK(config_kid != std::string::npos);

  auto claims = token_payload(token);
  CHECK(claims["aud"] == ca.server.url() + "/1.0/sign");
  CHECK(claims["iss"] == "admin");
  CHECK(claims["sub"] == "x.localhost");
  CHECK(claims["sans"] == nlohmann::json{"x.localhost", "10.0.0.1"});
  CHECK(claims["sha"] == sha256_hex(ca.pki.root_cert()));
  CHECK_THAT(claims.value("jti", ""), Matches("[0-9a-f]{64}"));
  CHECK(claims["nbf"] == claims["iat"]);
  CHECK(claims["exp"].get<std::int64_t>() - claims["iat"].get<std::int64_t>() == 300);
}

TEST_CASE("a token from keystep ca token, posted by curl with an openssl CSR, gets 201 and a chain openssl verifies",
          "[token]") {
  RunningCa ca;
  const fs::path csr = ca.tmp / "x.csr", key = ca.tmp / "x.key";
  require_ok(run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                  key.string(), "-out", csr.string(), "-subj", "/CN=x.localhost", "-addext",
                  "subjectAltName=DNS:x.localhost"}),
             "openssl req");
  const std::string token =
      without_trailing_newlines(require_ok(keystep(ca_token_args(ca, "x.localhost")), "keystep ca token").out);

  write_text(ca.tmp / "request.json", nlohmann::json{{"csr", read_text(csr)}, {"ott", token}}.dump());
  const fs::path response_file = ca.tmp / "response.json";
  auto curl = run({"curl", "-sS", "--cacert", ca.pki.root_cert().string(), "-H", "Content-Type: application/json",
                   "--data-binary", "@" + (ca.tmp / "request.json").string(), "-o", response_file.string(), "-w",
                   "%{http_code}", ca.server.url() + "/1.0/sign"});
  INFO(curl.describe());
  REQUIRE(curl.exit_code == 0);
  INFO(read_text(response_file));
  REQUIRE(curl.out == "201");

  auto response = nlohmann::json::parse(read_text(response_file));
  REQUIRE(response["certChain"].size() == 2);
  CHECK(response["crt"] == response["certChain"][0]);
  CHECK(response["ca"] == response["certChain"][1]);
  CHECK(response["ca"] == read_text(ca.pki.intermediate_cert()));
  write_text(ca.tmp / "leaf.crt", response["crt"].get<std::string>());
  write_text(ca.tmp / "chain.crt", response["ca"].get<std::string>());

  auto verified = verify_chain(ca.pki.root_cert(), ca.tmp / "chain.crt", ca.tmp / "leaf.crt");
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  const std::string text = x509_text(ca.tmp / "leaf.crt");
  CHECK_THAT(text, Contains("Subject: CN = x.localhost"));
  CHECK(extension(text, "X509v3 Subject Alternative Name").value == "DNS:x.localhost");
  CHECK(certificate_public_key(ca.tmp / "leaf.crt") == private_key_public_key(key));
  CHECK(ca.server.count("certificate issued") == 1);
}

TEST_CASE("keystep ca certificate --token uses a token minted before by keystep ca token", "[token]") {
  RunningCa ca;
  const std::string token =
      without_trailing_newlines(require_ok(keystep(ca_token_args(ca, "t.localhost")), "keystep ca token").out);
  require_ok(keystep({"ca", "certificate", "t.localhost", (ca.tmp / "t.crt").string(), (ca.tmp / "t.key").string(),
                      "--ca-url", ca.server.url(), "--root", ca.pki.root_cert().string(), "--token", token}),
             "keystep ca certificate --token");
  auto verified = verify_chain(ca.pki.root_cert(), ca.pki.intermediate_cert(), ca.tmp / "t.crt");
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
}

}  // namespace
}  // namespace keystep::integration
