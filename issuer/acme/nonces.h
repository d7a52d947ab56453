#pragma once
// Nonces hands out and redeems ACME Replay-Nonces (RFC 8555 §6.5) through
// the Store, so a nonce from one replica is good exactly once on any
// replica. A nonce is 128 random bits, base64url; it is valid for
// `lifetime` (default one hour), after which it is refused as badNonce like
// a reused one — the client retries with the fresh nonce of the error
// response. Thread-safe as the Store is.

#include <chrono>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "issuer/acme/problem.h"
#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/storage/store.h"

namespace keystep::acme {

class Nonces {
 public:
  Nonces(storage::Store& store, const common::Clock& clock, std::chrono::seconds lifetime = std::chrono::hours(1))
      : store_(store), clock_(clock), lifetime_(lifetime) {}

  // issue makes a new nonce and records it; unavailable when the database
  // cannot be reached (the response is then a serverInternal problem).
  [[nodiscard]] Result<std::string> issue();
  // redeem uses a nonce up: nullopt when it was good, else badNonce (or
  // serverInternal when the database cannot be reached).
  [[nodiscard]] std::optional<Problem> redeem(const std::string& nonce);

 private:
  storage::Store& store_;
  const common::Clock& clock_;
  std::chrono::seconds lifetime_;
};

}  // namespace keystep::acme
