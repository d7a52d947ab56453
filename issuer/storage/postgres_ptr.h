#pragma once
// unique_ptr aliases for the libpq objects Keystep owns. Wrap a pointer on
// the line that receives it.

#include <memory>

#include <libpq-fe.h>

namespace keystep::storage {

template <auto FreeFn>
struct PgFreeWith {
  template <class T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};

inline void free_pg_string(char* s) { PQfreemem(s); }

using PgConnPtr = std::unique_ptr<PGconn, PgFreeWith<PQfinish>>;
using PgResultPtr = std::unique_ptr<PGresult, PgFreeWith<PQclear>>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, PgFreeWith<PQconninfoFree>>;
using PgStringPtr = std::unique_ptr<char, PgFreeWith<free_pg_string>>;

}  // namespace keystep::storage
