#pragma once
// Compact JSON Web Signatures (RFC 7515) with the algorithms step uses:
// ES256/ES384/ES512 (raw R||S), RS256/384/512 (PKCS#1 v1.5),
// PS256/384/512 (PSS, salt = hash length) and EdDSA (Ed25519).
//
// Tokens are credentials: parse_compact and verify fail with
// Errc::unauthenticated and never echo more than a sanitized alg. verify
// runs on every certificate request; it uses the signing input kept by
// parse_compact and the Jwk's EVP_PKEY as they are (no re-serialization, no
// key re-creation). All functions are thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "issuer/common/base64.h"
#include "issuer/common/error.h"
#include "issuer/crypto/jose/jwk.h"

namespace keystep::jose {

inline constexpr std::size_t kMaxTokenBytes = 64 * 1024;

// Jws is a parsed, not yet verified, compact JWS.
struct Jws {
  nlohmann::json header;      // the protected header, a JSON object
  std::string payload;        // decoded payload bytes
  std::string signing_input;  // ASCII(b64(header) '.' b64(payload)), as received
  common::Bytes signature;    // decoded signature bytes

  // alg and kid are the header's string members, or "" if absent.
  [[nodiscard]] std::string alg() const;
  [[nodiscard]] std::string kid() const;
};

// sign_compact signs payload with key under protected_header, which must be
// a JSON object whose "alg" the key supports. The header is serialized
// compactly with sorted keys, as step does: {"alg":"ES256","kid":"…","typ":"JWT"}.
// Fails with invalid_argument (bad header, alg/key mismatch) or
// failed_precondition (key has no private part).
[[nodiscard]] Result<std::string> sign_compact(const nlohmann::json& protected_header, std::string_view payload,
                                               const Jwk& key);

// parse_compact splits and decodes a compact JWS of at most kMaxTokenBytes.
// The header must be a JSON object with a string "alg" other than "none"
// and no "crit" member (no critical extension is supported).
[[nodiscard]] Result<Jws> parse_compact(std::string_view token);

// verify checks the signature with key. The token's alg must suit the key
// type and curve ("token algorithm X does not match key"); any other
// failure is "token signature does not verify".
[[nodiscard]] Status verify(const Jws& jws, const Jwk& key);

// payload_json parses the payload, which must be a JSON object.
[[nodiscard]] Result<nlohmann::json> payload_json(const Jws& jws);

}  // namespace keystep::jose
