#pragma once
// Request ids as step-ca's middleware makes them: a client-supplied
// X-Request-Id, else X-Smallstep-Id, else a fresh UUIDv4.

#include <string>

namespace keystep::http {

// new_uuid_v4 returns a random RFC 4122 version 4 UUID in lowercase
// 8-4-4-4-12 hex, from RAND_bytes. Thread-safe; never fails.
[[nodiscard]] std::string new_uuid_v4();

}  // namespace keystep::http
