#pragma once
// postgres_error turns a failed libpq call into our Error by SQLSTATE:
// 23505 unique_violation is already_exists; other integrity and data errors
// are invalid_argument; connection errors (class 08, operator intervention
// 57P, a lost connection with no SQLSTATE), insufficient resources (53) and
// serialization failures are unavailable; the rest is internal.
// is_connection_broken() says whether the connection must be dropped.

#include <string_view>

#include <libpq-fe.h>

#include "issuer/common/error.h"

namespace keystep::storage {

// is_ok says whether `result` is a successful command or query result.
[[nodiscard]] bool is_ok(const PGresult* result);

[[nodiscard]] Error postgres_error(PGconn* conn, const PGresult* result, std::string_view what);

[[nodiscard]] bool is_connection_broken(PGconn* conn, const PGresult* result);

}  // namespace keystep::storage
