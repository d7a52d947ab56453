#pragma once
// open_store opens the configured backend, applies pending migrations and
// returns the Store. Errors: invalid_argument for a bad config (field path
// in the message); unavailable when the database cannot be reached or
// refuses the login (the message names host, port and dbname, never the
// password); failed_precondition when the schema is newer than this binary.

#include <memory>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/storage/storage_config.h"
#include "issuer/storage/store.h"

namespace keystep::storage {

[[nodiscard]] Result<std::unique_ptr<Store>> open_store(const StorageConfig& config, const common::Clock& clock);

}  // namespace keystep::storage
