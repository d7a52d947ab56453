#pragma once
// StorageConfig selects and configures the Store backend: an embedded SQLite
// file (the default, one instance) or PostgreSQL (replicas). validate()
// reports the first invalid field by its config path.

#include <chrono>
#include <filesystem>
#include <string>

#include "issuer/common/error.h"

namespace keystep::storage {

struct StorageConfig {
  enum class Kind { sqlite, postgres };
  Kind kind = Kind::sqlite;                       // storage.kind: "sqlite" or "postgres"
  std::filesystem::path sqlite_path = "keystep.db";  // storage.sqlitePath
  std::string dsn;                                // storage.dsn: libpq key=value DSN, no password
  std::filesystem::path password_file;            // storage.passwordFile: mounted from a Secret; "" = none
  int pool_size = 4;                              // storage.poolSize: connections per replica, 1..64
  std::chrono::seconds connect_timeout{5};        // storage.connectTimeout: per connection attempt, >= 1s
};

// validate returns invalid_argument naming the field:
// "storage.poolSize: must be between 1 and 64".
[[nodiscard]] Status validate(const StorageConfig& config);

// describe_dsn returns "host=db port=5432 dbname=keystep user=keystep" from a
// DSN, keeping only those keywords (never a password); "" if it does not parse.
[[nodiscard]] std::string describe_dsn(const std::string& dsn);

}  // namespace keystep::storage
