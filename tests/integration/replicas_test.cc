// Three keystep serve processes on one PostgreSQL behave as one CA: a token
// used at one replica is refused by the others, serials never collide, a
// revocation through one shows in the CRL and OCSP answers of all, and CRL
// numbers only grow.

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/crypto/certificate.h"
#include "issuer/revocation/crl.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/token_minter.h"
#include "tests/support/pki.h"
#include "tests/support/postgres.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

struct Replicas {
  explicit Replicas(keystep::testing::PostgresServer& postgres) : pki(init_pki(tmp, "ca", {.password = false})) {
    YAML::Node config = YAML::LoadFile(pki.config().string());
    config["storage"] = YAML::Load("{kind: postgres, dsn: \"" + postgres.dsn(postgres.create_database()) +
                                   "\", passwordFile: " + postgres.password_file().string() + "}");
    YAML::Emitter out;
    out << config;
    std::ofstream(pki.config(), std::ios::trunc) << out.c_str() << "\n";
    for (int i = 0; i < 3; ++i) {
      auto options = serve_options(pki);
      options.log_file = tmp / ("replica" + std::to_string(i) + ".log");
      servers.push_back(std::make_unique<ServerProcess>(options));
    }
    for (const auto& s : servers) clients.push_back(std::make_unique<CaHttp>(*s, pki));
  }

  [[nodiscard]] nlohmann::json sign_body(const ServerProcess& server, const std::string& subject) const {
    return {{"csr", keystep::testing::make_csr_pem(key.get(), {.cn = subject, .dns = {subject}})},
            {"ott", minter.sign(minter.claims(subject, server.url() + "/1.0/sign"))}};
  }

  TempDir tmp;
  Pki pki;
  std::vector<std::unique_ptr<ServerProcess>> servers;
  std::vector<std::unique_ptr<CaHttp>> clients;
  TokenMinter minter = TokenMinter::load(pki.provisioner_key(), "admin");
  crypto::EvpPkeyPtr key = keystep::testing::make_key();
};

TEST_CASE("replicas on one PostgreSQL refuse a token another replica accepted", "[replicas]") {
  keystep::testing::PostgresServer postgres;
  Replicas r(postgres);
  // Audiences ignore the port, so one token suits every replica.
  const auto body = r.sign_body(*r.servers[0], "once.localhost");
  REQUIRE(r.clients[0]->post_sign(body).status == 201);
  for (int i : {1, 2}) {
    auto replay = r.clients[static_cast<std::size_t>(i)]->post_sign(body);
    INFO("replica " << i << ": " << replay.body);
    CHECK(replay.status == 401);
    CHECK_THAT(replay.body, Contains("token already used"));
    CHECK(r.servers[static_cast<std::size_t>(i)]->count("certificate issued") == 0);
  }
}

TEST_CASE("replicas on one PostgreSQL issue distinct serials and share revocations, CRL and OCSP", "[replicas]") {
  keystep::testing::PostgresServer postgres;
  Replicas r(postgres);
  std::set<std::string> serials;
  std::vector<crypto::Certificate> issued;
  for (int n = 0; n < 30; ++n) {
    const auto i = static_cast<std::size_t>(n % 3);
    auto res = r.clients[i]->post_sign(r.sign_body(*r.servers[i], "host" + std::to_string(n) + ".localhost"));
    REQUIRE(res.status == 201);
    auto cert = crypto::Certificate::from_pem(nlohmann::json::parse(res.body)["crt"].get<std::string>());
    serials.insert(cert->serial_decimal());
    issued.push_back(*cert);
  }
  CHECK(serials.size() == 30);

  // Revoke through replica 1.
  const std::string serial = issued[4].serial_decimal();
  auto claims = r.minter.claims(serial, r.servers[1]->url() + "/1.0/revoke");
  claims.erase("sans");
  nlohmann::json revoke = {{"serial", serial}, {"ott", r.minter.sign(claims)}, {"reasonCode", 5}, {"passive", true}};
  REQUIRE(r.clients[1]->post("/1.0/revoke", revoke.dump(), {{"Content-Type", "application/json"}}).status == 200);

  std::int64_t last_number = -1;
  for (std::size_t i = 0; i < 3; ++i) {
    auto crl = r.clients[i]->get("/1.0/crl");
    REQUIRE(crl.status == 200);
    auto info = revocation::parse_crl(crl.body);
    REQUIRE(info);
    INFO("replica " << i);
    REQUIRE(info->entries.size() == 1);
    CHECK(info->entries[0].serial == serial);
    REQUIRE(info->number);
    CHECK(*info->number >= last_number);
    last_number = *info->number;

    const fs::path leaf = r.tmp / ("leaf" + std::to_string(i) + ".pem");
    write_text(leaf, issued[4].pem());
    auto ocsp = run({"openssl", "ocsp", "-issuer", r.pki.intermediate_cert().string(), "-cert", leaf.string(), "-url",
                     r.servers[i]->url() + "/ocsp", "-CAfile", r.pki.root_cert().string(), "-verify_other",
                     r.pki.intermediate_cert().string()});
    INFO(ocsp.describe());
    CHECK_THAT(ocsp.out, Contains(": revoked") && Contains("cessationOfOperation"));
  }
  // A second revocation through replica 2 gives a CRL with a greater number everywhere.
  const std::string second = issued[7].serial_decimal();
  auto claims2 = r.minter.claims(second, r.servers[2]->url() + "/1.0/revoke");
  claims2.erase("sans");
  nlohmann::json revoke2 = {{"serial", second}, {"ott", r.minter.sign(claims2)}, {"reasonCode", 1}, {"passive", true}};
  REQUIRE(r.clients[2]->post("/1.0/revoke", revoke2.dump(), {{"Content-Type", "application/json"}}).status == 200);
  for (std::size_t i = 0; i < 3; ++i) {
    auto info = revocation::parse_crl(r.clients[i]->get("/1.0/crl").body);
    REQUIRE(info);
    CHECK(info->entries.size() == 2);
    CHECK(*info->number > last_number);
  }
}

}  // namespace
}  // namespace keystep::integration
