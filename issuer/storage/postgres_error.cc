#include "issuer/storage/postgres_error.h"

#include <string>

namespace keystep::storage {
namespace {

std::string_view sqlstate(const PGresult* result) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state == nullptr ? std::string_view() : std::string_view(state);
}

std::string trimmed(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

}  // namespace

bool is_ok(const PGresult* result) {
  if (result == nullptr) return false;
  ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

bool is_connection_broken(PGconn* conn, const PGresult* result) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return true;
  std::string_view state = sqlstate(result);
  return state.empty() || state.starts_with("08") || state.starts_with("57P");
}

Error postgres_error(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* primary = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = std::string(what) + ": " + trimmed(primary != nullptr ? primary : PQerrorMessage(conn));
  std::string_view state = sqlstate(result);
  if (is_connection_broken(conn, result) || state.starts_with("53") || state == "40001" || state == "40P01") {
    return Error{Errc::unavailable, std::move(message)};
  }
  if (state == "23505") return Error{Errc::already_exists, std::move(message)};
  if (state.starts_with("23") || state.starts_with("22")) return Error{Errc::invalid_argument, std::move(message)};
  return Error{Errc::internal, std::move(message)};
}

}  // namespace keystep::storage
