#include "issuer/storage/open_store.h"

#include "issuer/common/log.h"
#include "issuer/storage/postgres_store.h"
#include "issuer/storage/sqlite_store.h"

namespace keystep::storage {

Result<std::unique_ptr<Store>> open_store(const StorageConfig& config, const common::Clock& clock) {
  if (auto valid = validate(config); !valid) return tl::unexpected(valid.error());
  std::unique_ptr<Store> store;
  if (config.kind == StorageConfig::Kind::postgres) {
    auto opened = PostgresStore::open(config, clock);
    if (!opened) return tl::unexpected(opened.error());
    store = std::move(*opened);
  } else {
    auto opened = SqliteStore::open(config.sqlite_path, clock);
    if (!opened) return tl::unexpected(opened.error());
    store = std::move(*opened);
  }
  common::logger("storage")->info("storage opened backend=\"{}\"", store->describe());
  return store;
}

}  // namespace keystep::storage
