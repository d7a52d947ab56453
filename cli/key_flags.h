#pragma once
// The --kty, --crv and --size flags of the commands that generate a key
// (`keystep ca certificate`, `keystep crypto jwk create`), validated by
// crypto::parse_key_spec so both accept the same keys.

#include <vector>

#include "cli/args.h"
#include "issuer/common/error.h"
#include "issuer/crypto/key.h"

namespace keystep::cli {

[[nodiscard]] std::vector<FlagSpec> key_spec_flags();

// read_key_spec fails with a usage error naming the flag: "flag --crv: ...".
[[nodiscard]] Result<crypto::KeySpec> read_key_spec(const Args& args);

}  // namespace keystep::cli
