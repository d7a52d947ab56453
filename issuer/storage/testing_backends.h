#pragma once
// Test-only (header-only): fresh databases for both backends, so one suite
// of behaviour tests runs against SQLite and a real PostgreSQL 15 (started
// by tests/support/postgres.h). TestDatabase also gives raw SQL access for
// tests that inspect or tamper with the schema itself.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "issuer/common/clock.h"
#include "issuer/storage/open_store.h"
#include "issuer/storage/postgres_ptr.h"
#include "issuer/storage/sqlite_store.h"
#include "issuer/storage/storage_config.h"
#include "tests/support/postgres.h"

// REQUIRE_OK(result) requires success and shows the error message if not.
#define REQUIRE_OK(expr)                                                         \
  do {                                                                           \
    const auto& result_ = (expr);                                                \
    INFO((result_ ? std::string("ok") : result_.error().message));               \
    REQUIRE(result_.has_value());                                                \
  } while (false)

namespace Catch {
template <>
struct StringMaker<keystep::Errc> {
  static std::string convert(keystep::Errc code) { return std::string(keystep::to_string(code)); }
};
}  // namespace Catch

namespace keystep::storage::testing {

using namespace std::chrono_literals;

// kT0 is a whole second: the stores keep times with second precision.
inline const common::TimePoint kT0 = common::TimePoint(std::chrono::seconds(1'800'000'000));

// TempDir is a directory removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keystep-storage-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;  // best effort: leftovers in /tmp are harmless
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline TempDir& shared_temp_dir() {
  static TempDir dir;
  return dir;
}

// TestDatabase is an empty database of one backend and the StorageConfig
// that opens it.
struct TestDatabase {
  std::string backend;  // "sqlite" or "postgres"
  StorageConfig config;

  [[nodiscard]] Result<std::unique_ptr<Store>> open(const common::Clock& clock) const {
    return open_store(config, clock);
  }

  // query runs raw SQL (no parameters) and returns the first column of the
  // first row as text ("" if none); throws on error.
  std::string query(const std::string& sql) const {
    if (config.kind == StorageConfig::Kind::sqlite) return sqlite_query(sql);
    return postgres_query(sql);
  }

 private:
  std::string sqlite_query(const std::string& sql) const {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open(config.sqlite_path.c_str(), &raw);
    SqlitePtr db(raw);
    std::string out;
    std::string error;
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db.get(), 5000);
      auto first = [](void* target, int columns, char** values, char**) {
        auto* s = static_cast<std::string*>(target);
        if (s->empty() && columns > 0 && values[0] != nullptr) *s = values[0];
        return 0;
      };
      char* message = nullptr;
      rc = sqlite3_exec(db.get(), sql.c_str(), first, &out, &message);
      if (message != nullptr) {
        error = message;
        sqlite3_free(message);
      }
    }
    if (rc != SQLITE_OK && error.empty()) error = sqlite3_errstr(rc);
    if (rc != SQLITE_OK) throw std::runtime_error("test sqlite: " + sql + ": " + error);
    return out;
  }

  std::string postgres_query(const std::string& sql) const {
    auto& server = keystep::testing::shared_postgres();
    const std::string& password = server.keystep_password();
    const char* keywords[] = {"dbname", "password", nullptr};
    const char* values[] = {config.dsn.c_str(), password.c_str(), nullptr};
    PgConnPtr conn(PQconnectdbParams(keywords, values, 1));
    std::string out;
    std::string error;
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      error = PQerrorMessage(conn.get());
    } else {
      PgResultPtr result(PQexec(conn.get(), sql.c_str()));
      ExecStatusType status = PQresultStatus(result.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        error = PQresultErrorMessage(result.get());
      } else if (PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0) {
        out = PQgetvalue(result.get(), 0, 0);
      }
    }
    if (!error.empty()) throw std::runtime_error("test postgres: " + sql + ": " + error);
    return out;
  }
};

// fresh_database returns a new, empty database of `backend`: a new SQLite
// file, or a new schema (selected through the DSN's search_path) in one
// database of the shared test PostgreSQL.
inline TestDatabase fresh_database(const std::string& backend) {
  static std::atomic<int> counter{0};
  TestDatabase db;
  db.backend = backend;
  if (backend == "sqlite") {
    db.config.kind = StorageConfig::Kind::sqlite;
    db.config.sqlite_path = shared_temp_dir().path() / ("store-" + std::to_string(++counter) + ".db");
  } else if (backend == "postgres") {
    auto& server = keystep::testing::shared_postgres();
    db.config.kind = StorageConfig::Kind::postgres;
    static const std::string dbname = server.create_database();
    db.config.dsn = server.dsn(dbname, server.create_schema(dbname));
    db.config.password_file = server.password_file();
    db.config.pool_size = 4;
  } else {
    throw std::invalid_argument("unknown backend " + backend);
  }
  return db;
}

// open_or_throw opens a store for tests that need one to go on.
inline std::unique_ptr<Store> open_or_throw(const TestDatabase& db, const common::Clock& clock) {
  auto store = db.open(clock);
  if (!store) throw std::runtime_error("opening " + db.backend + " store: " + store.error().message);
  return std::move(*store);
}

}  // namespace keystep::storage::testing
