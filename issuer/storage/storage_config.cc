#include "issuer/storage/storage_config.h"

#include <cstring>
#include <memory>

#include <libpq-fe.h>

#include "issuer/storage/postgres_ptr.h"

namespace keystep::storage {
namespace {

Status invalid(std::string_view field, std::string_view problem) {
  return fail(Errc::invalid_argument, "storage." + std::string(field) + ": " + std::string(problem));
}

}  // namespace

Status validate(const StorageConfig& config) {
  if (config.pool_size < 1 || config.pool_size > 64) return invalid("poolSize", "must be between 1 and 64");
  if (config.connect_timeout < std::chrono::seconds(1)) return invalid("connectTimeout", "must be at least 1s");
  switch (config.kind) {
    case StorageConfig::Kind::sqlite:
      if (config.sqlite_path.empty()) return invalid("sqlitePath", "must not be empty");
      return ok();
    case StorageConfig::Kind::postgres: {
      if (config.dsn.empty()) return invalid("dsn", "required when storage.kind is postgres");
      char* parse_error = nullptr;
      PgConninfoPtr options(PQconninfoParse(config.dsn.c_str(), &parse_error));
      PgStringPtr error_owner(parse_error);
      // libpq's parse error can quote the DSN, which may hold a password: not shown.
      if (!options) return invalid("dsn", "not a valid libpq connection string");
      for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
        if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && o->val[0] != '\0') {
          return invalid("dsn", "put the password in storage.passwordFile, not in the DSN");
        }
      }
      return ok();
    }
  }
  return invalid("kind", "must be sqlite or postgres");
}

std::string describe_dsn(const std::string& dsn) {
  PgConninfoPtr options(PQconninfoParse(dsn.c_str(), nullptr));
  if (!options) return "";
  std::string out;
  for (const char* keyword : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, keyword) == 0 && o->val != nullptr && o->val[0] != '\0') {
        if (!out.empty()) out += ' ';
        out += std::string(keyword) + "=" + o->val;
      }
    }
  }
  return out;
}

}  // namespace keystep::storage
