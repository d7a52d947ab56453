#include <catch2/catch.hpp>

#include "issuer/storage/open_store.h"
#include "issuer/storage/storage_config.h"

namespace keystep::storage {
namespace {

std::string problem(const StorageConfig& config) {
  auto r = validate(config);
  return r ? "ok" : r.error().message;
}

StorageConfig postgres(const std::string& dsn) {
  StorageConfig c;
  c.kind = StorageConfig::Kind::postgres;
  c.dsn = dsn;
  return c;
}

TEST_CASE("the default storage config is a valid SQLite file keystep.db", "[storage][config]") {
  StorageConfig c;
  CHECK(c.kind == StorageConfig::Kind::sqlite);
  CHECK(c.sqlite_path == "keystep.db");
  CHECK(problem(c) == "ok");
  CHECK(problem(postgres("host=db port=5432 dbname=keystep user=keystep")) == "ok");
  CHECK(problem(postgres("postgresql://keystep@db:5432/keystep")) == "ok");
}

TEST_CASE("storage config validation names the field", "[storage][config]") {
  StorageConfig c;
  c.pool_size = 0;
  CHECK(problem(c) == "storage.poolSize: must be between 1 and 64");
  c.pool_size = 65;
  CHECK(problem(c) == "storage.poolSize: must be between 1 and 64");
  c.pool_size = 64;
  CHECK(problem(c) == "ok");

  c.connect_timeout = std::chrono::seconds(0);
  CHECK(problem(c) == "storage.connectTimeout: must be at least 1s");

  StorageConfig empty_path;
  empty_path.sqlite_path.clear();
  CHECK(problem(empty_path) == "storage.sqlitePath: must not be empty");

  CHECK(problem(postgres("")) == "storage.dsn: required when storage.kind is postgres");
  CHECK(problem(postgres("host=db dbname")) == "storage.dsn: not a valid libpq connection string");
}

TEST_CASE("a password in the DSN is refused without repeating it", "[storage][config]") {
  for (const std::string dsn : {"host=db dbname=keystep password=hunter2",
                                "postgresql://keystep:hunter2@db/keystep"}) {
    INFO(dsn);
    std::string message = problem(postgres(dsn));
    CHECK(message == "storage.dsn: put the password in storage.passwordFile, not in the DSN");
  }
  CHECK_THAT(problem(postgres("host=db dbname password=hunter2")), !Catch::Contains("hunter2"));
}

TEST_CASE("describe_dsn keeps host, port, dbname and user only", "[storage][config]") {
  CHECK(describe_dsn("host=db port=5433 dbname=ca user=ks sslmode=require password=x") ==
        "host=db port=5433 dbname=ca user=ks");
  CHECK(describe_dsn("postgresql://ks:secret@db:5433/ca") == "host=db port=5433 dbname=ca user=ks");
}

TEST_CASE("open_store refuses an invalid config with invalid_argument", "[storage][config]") {
  common::SystemClock clock;
  StorageConfig c;
  c.pool_size = 100;
  auto r = open_store(c, clock);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_argument);
  CHECK(r.error().message == "storage.poolSize: must be between 1 and 64");
}

}  // namespace
}  // namespace keystep::storage
