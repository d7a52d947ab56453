// keystep serve on its databases: SQLite by default (state survives a
// restart) and PostgreSQL (a database that goes away means 503 and nothing
// issued, and service resumes when it comes back).

#include <yaml-cpp/yaml.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/token_minter.h"
#include "tests/support/pki.h"
#include "tests/support/postgres.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;

constexpr char kIssued[] = "certificate issued";

void append(const Pki& pki, const std::string& yaml) { std::ofstream(pki.config(), std::ios::app) << yaml; }

// set_storage replaces the storage section that keystep init wrote.
void set_storage(const Pki& pki, const std::string& flow_yaml) {
  YAML::Node config = YAML::LoadFile(pki.config().string());
  config["storage"] = YAML::Load(flow_yaml);
  YAML::Emitter out;
  out << config;
  std::ofstream(pki.config(), std::ios::trunc) << out.c_str() << "\n";
}

struct Signer {
  const Pki& pki;
  TokenMinter minter = TokenMinter::load(pki.provisioner_key(), "admin");
  crypto::EvpPkeyPtr key = keystep::testing::make_key();

  [[nodiscard]] std::string token(const ServerProcess& server, const std::string& subject) const {
    return minter.sign(minter.claims(subject, server.url() + "/1.0/sign", {}));
  }
  [[nodiscard]] nlohmann::json request(const std::string& token, const std::string& subject) const {
    return {{"csr", keystep::testing::make_csr_pem(key.get(), {.cn = subject, .dns = {subject}})}, {"ott", token}};
  }
};

TEST_CASE("keystep serve on SQLite remembers used tokens across a restart", "[storage]") {
  TempDir tmp;
  // Without the iat check a token from before the restart reaches the
  // used-token ledger, which must still know it.
  Pki pki = init_pki(tmp, "ca", {.password = false});
  append(pki, "disableIssuedAtCheck: true\n");
  Signer signer{pki};
  std::string token;
  {
    ServerProcess server(serve_options(pki));
    CaHttp http(server, pki);
    token = signer.token(server, "persist.localhost");
    auto first = http.post_sign(signer.request(token, "persist.localhost"));
    INFO(first.body);
    REQUIRE(first.status == 201);
  }
  CHECK(std::filesystem::exists(pki.dir / "config" / "keystep.db"));
  auto restarted = serve_options(pki);
  restarted.log_file = tmp / "restarted.log";  // a fresh log: its listening line is the new port
  ServerProcess server(restarted);
  CaHttp http(server, pki);
  auto replay = http.post_sign(signer.request(token, "persist.localhost"));
  INFO(replay.body);
  CHECK(replay.status == 401);
  CHECK_THAT(replay.body, Contains("token already used"));
  CHECK(server.count(kIssued) == 0);
}

TEST_CASE("keystep serve on PostgreSQL answers 503 and issues nothing while the database is down", "[storage]") {
  keystep::testing::PostgresServer postgres;
  const std::string db = postgres.create_database();
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca", {.password = false});
  set_storage(pki, "{kind: postgres, dsn: \"" + postgres.dsn(db) + "\", passwordFile: " +
                       postgres.password_file().string() + ", connectTimeout: 2s}");
  Signer signer{pki};
  ServerProcess server(serve_options(pki));
  CaHttp http(server, pki);
  CHECK_THAT(server.log(), Contains("storage ready backend=\"postgres"));
  CHECK_THAT(server.log(), !Contains(postgres.keystep_password()));

  auto ok = http.post_sign(signer.request(signer.token(server, "a.localhost"), "a.localhost"));
  INFO(ok.body);
  REQUIRE(ok.status == 201);
  REQUIRE(server.count(kIssued) == 1);

  postgres.stop();
  auto down = http.post_sign(signer.request(signer.token(server, "b.localhost"), "b.localhost"));
  INFO(down.body);
  CHECK(down.status == 503);
  CHECK_THAT(down.body, Contains("unavailable"));
  CHECK(server.count(kIssued) == 1);
  auto health = http.get("/health");
  CHECK(health.status == 503);
  CHECK_THAT(health.body, Contains("database"));

  postgres.start();
  auto back = http.post_sign(signer.request(signer.token(server, "c.localhost"), "c.localhost"));
  INFO(back.body);
  CHECK(back.status == 201);
  CHECK(http.get("/health").status == 200);
  CHECK_THAT(server.log(), !Contains(postgres.keystep_password()));
}

}  // namespace
}  // namespace keystep::integration
