#pragma once
// unique_ptr aliases for the libpq objects Keystep owns. Wrap a pointer on
// the line that receives it.

#include <memory>

#include <libpq-fe.h>

#include "issuer/common/free_with.h"

namespace keystep::storage {

using common::FreeWith;

inline void free_pg_string(char* s) { PQfreemem(s); }

using PgConnPtr = std::unique_ptr<PGconn, FreeWith<PQfinish>>;
using PgResultPtr = std::unique_ptr<PGresult, FreeWith<PQclear>>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, FreeWith<PQconninfoFree>>;
using PgStringPtr = std::unique_ptr<char, FreeWith<free_pg_string>>;

}  // namespace keystep::storage
