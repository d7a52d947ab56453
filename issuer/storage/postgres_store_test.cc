// PostgreSQL-only behaviour: a server that goes away, a wrong password, an
// unreachable address. The shared suite (store_test.cc) covers the rest.

#include <fstream>

#include <catch2/catch.hpp>

#include "issuer/storage/testing_backends.h"

namespace keystep::storage {
namespace {

using keystep::testing::PostgresServer;
using keystep::testing::shared_postgres;
using testing::kT0;
using namespace std::chrono_literals;

StorageConfig config_for(const PostgresServer& server, const std::string& dbname) {
  StorageConfig c;
  c.kind = StorageConfig::Kind::postgres;
  c.dsn = server.dsn(dbname);
  c.password_file = server.password_file();
  c.pool_size = 2;
  c.connect_timeout = 2s;
  return c;
}

TEST_CASE("a stopped PostgreSQL makes calls fail with unavailable until it is back", "[storage][postgres]") {
  // A server of its own: stopping the shared one would disturb other tests.
  PostgresServer server;
  std::string dbname = server.create_database();
  common::FakeClock clock(kT0);
  auto opened = open_store(config_for(server, dbname), clock);
  REQUIRE_OK(opened);
  auto& store = *opened;
  REQUIRE_OK(store->use_token("admin", "before", kT0 + 1h));

  server.stop();
  auto ping = store->ping();
  REQUIRE_FALSE(ping);
  CHECK(ping.error().code == Errc::unavailable);
  auto token = store->use_token("admin", "during", kT0 + 1h);
  REQUIRE_FALSE(token);
  CHECK(token.error().code == Errc::unavailable);
  CertificateRecord cert;
  cert.serial = "1";
  auto insert = store->insert_certificate(cert);
  REQUIRE_FALSE(insert);
  CHECK(insert.error().code == Errc::unavailable);
  CHECK_THAT(insert.error().message, Catch::Contains("127.0.0.1"));
  CHECK(store->next_crl_number().error().code == Errc::unavailable);
  CHECK(store->latest_crl().error().code == Errc::unavailable);

  // Broken connections were dropped: the first call after the restart works,
  // and what was committed before the stop is still there.
  server.start();
  REQUIRE_OK(store->ping());
  REQUIRE_OK(store->use_token("admin", "after", kT0 + 1h));
  CHECK(store->use_token("admin", "before", kT0 + 1h).error().code == Errc::already_exists);
}

TEST_CASE("a wrong password fails to open with a message that holds no password", "[storage][postgres]") {
  auto& server = shared_postgres();
  testing::TempDir dir;
  auto wrong_file = dir.path() / "wrong.pw";
  const std::string wrong = "wrong-password-31337";
  std::ofstream(wrong_file) << wrong << "\n";
  auto config = config_for(server, "postgres");  // login fails first
  config.password_file = wrong_file;

  common::FakeClock clock(kT0);
  auto r = open_store(config, clock);
  REQUIRE_FALSE(r);
  CHECK((r.error().code == Errc::unavailable || r.error().code == Errc::permission_denied));
  CHECK_THAT(r.error().message, Catch::Contains("password authentication failed"));
  CHECK_THAT(r.error().message, !Catch::Contains(wrong));
  CHECK_THAT(r.error().message, !Catch::Contains(server.keystep_password()));
}

TEST_CASE("an unreachable PostgreSQL fails with unavailable naming host and port and dbname",
          "[storage][postgres]") {
  auto& server = shared_postgres();
  StorageConfig config = config_for(server, "nowhere");
  // Nothing listens on port 1 (tcpmux) here: the connection is refused at once.
  const int port = 1;
  config.dsn = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=nowhere user=keystep";

  common::FakeClock clock(kT0);
  auto r = open_store(config, clock);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unavailable);
  CHECK_THAT(r.error().message, Catch::Contains("host=127.0.0.1 port=" + std::to_string(port) + " dbname=nowhere"));
  CHECK_THAT(r.error().message, !Catch::Contains(server.keystep_password()));
}

TEST_CASE("a missing password file fails to open with its path", "[storage][postgres]") {
  auto& server = shared_postgres();
  auto config = config_for(server, "postgres");
  config.password_file = "/nonexistent/keystep.pw";
  common::FakeClock clock(kT0);
  auto r = open_store(config, clock);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("storage.passwordFile"));
}

TEST_CASE("a PostgreSQL that requires TLS is reached with verify-full and its CA, and refuses anything less",
          "[storage][postgres]") {
  PostgresServer server(PostgresServer::Tls::required);
  const std::string dbname = server.create_database();
  common::FakeClock clock(kT0);
  // open_with opens the store with these libpq settings added to the DSN
  const auto open_with = [&](const std::string& settings) {
    auto config = config_for(server, dbname);
    config.dsn += " " + settings;
    return open_store(config, clock);
  };
  auto opened = open_with("sslmode=verify-full sslrootcert=" + server.ca_file().string());
  REQUIRE_OK(opened);
  REQUIRE_OK((*opened)->use_token("admin", "over-tls", kT0 + 1h));

  SECTION("without TLS the server's pg_hba lets nothing in") {
    auto r = open_with("sslmode=disable");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("no encryption"));
  }
  SECTION("a CA that did not sign the server's certificate is refused") {
    PostgresServer other(PostgresServer::Tls::required);
    auto r = open_with("sslmode=verify-full sslrootcert=" + other.ca_file().string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unavailable);
    CHECK_THAT(r.error().message, Catch::Contains("certificate verify failed"));
  }
  SECTION("verify-full without the CA file fails, naming what is missing") {
    auto r = open_with("sslmode=verify-full sslrootcert=/nonexistent/ca.crt");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/ca.crt"));
  }
}

}  // namespace
}  // namespace keystep::storage
