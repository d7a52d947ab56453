// SQLite-only behaviour. The shared suite (store_test.cc) covers the rest.

#include <catch2/catch.hpp>

#include "issuer/storage/testing_backends.h"

namespace keystep::storage {
namespace {

using testing::fresh_database;
using testing::kT0;
using testing::open_or_throw;

TEST_CASE("the SQLite store keeps its file in WAL mode", "[storage][sqlite]") {
  auto db = fresh_database("sqlite");
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);
  CHECK(db.query("PRAGMA journal_mode") == "wal");
  CHECK(std::filesystem::exists(db.config.sqlite_path));
}

TEST_CASE("a SQLite path in a missing directory fails to open with the path", "[storage][sqlite]") {
  StorageConfig config;
  config.sqlite_path = "/nonexistent-dir/keystep.db";
  common::FakeClock clock(kT0);
  auto r = open_store(config, clock);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unavailable);
  CHECK_THAT(r.error().message, Catch::Contains("/nonexistent-dir/keystep.db"));
}

}  // namespace
}  // namespace keystep::storage
