#pragma once
// Versioned schema migrations, one list per SQL dialect. A migration is
// applied once, in version order, inside a transaction that also records it
// in schema_migrations(version, applied_at). Never edit a released
// migration: append a new one.

#include <span>
#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::storage {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements, no parameters
};

[[nodiscard]] std::span<const Migration> sqlite_migrations();
[[nodiscard]] std::span<const Migration> postgres_migrations();

// kMigrationLockKey is the pg_advisory_lock key held while migrating, so
// replicas starting together apply each migration exactly once.
inline constexpr long long kMigrationLockKey = 0x6b65797374657001;  // "keystep" 01

// check_schema_version refuses a database migrated by a newer keystep:
// failed_precondition "database schema version 7 is newer than this keystep
// (5); upgrade keystep".
[[nodiscard]] Status check_schema_version(int database_version, std::span<const Migration> known);

}  // namespace keystep::storage
