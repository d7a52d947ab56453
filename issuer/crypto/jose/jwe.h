#pragma once
// Password-based JWE (RFC 7516 compact serialization, RFC 7518 §4.8 PBES2),
// the format step uses for a provisioner's encryptedKey.
//
// encrypt_pbes2 writes what step writes today:
//   {"alg":"PBES2-HS256+A128KW","cty":"jwk+json","enc":"A256GCM","p2c":600000,"p2s":"<16 bytes>"}
// decrypt_pbes2 also reads older keys: alg PBES2-HS256+A128KW,
// PBES2-HS384+A192KW, PBES2-HS512+A256KW; enc A128GCM, A192GCM, A256GCM.
// The iteration count p2c must lie in [kMinPbes2Iterations,
// kMaxPbes2Iterations] both ways, so a crafted key cannot pin a CPU.
//
// Errors: malformed or unsupported input is invalid_argument; a wrong
// password or any tampering is permission_denied "wrong password or
// corrupted key". Intermediate keys are wiped. Thread-safe.

#include <string>
#include <string_view>

#include "issuer/common/error.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::jose {

inline constexpr int kMinPbes2Iterations = 1000;
inline constexpr int kMaxPbes2Iterations = 10'000'000;
inline constexpr int kDefaultPbes2Iterations = 600'000;  // step since mid-2023
inline constexpr std::size_t kMaxJweBytes = 64 * 1024;

// encrypt_pbes2 encrypts plaintext under password (non-empty). An empty
// content_type leaves "cty" out of the header.
[[nodiscard]] Result<std::string> encrypt_pbes2(std::string_view plaintext, std::string_view password,
                                                std::string_view content_type = "jwk+json",
                                                int iterations = kDefaultPbes2Iterations);

// decrypt_pbes2 returns the plaintext of a compact PBES2 JWE.
[[nodiscard]] Result<crypto::SecretBytes> decrypt_pbes2(std::string_view compact, std::string_view password);

}  // namespace keystep::jose
