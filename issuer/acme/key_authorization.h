#pragma once
// Key authorizations (RFC 8555 §8.1) bind a challenge token to the account
// key: token "." base64url(SHA-256 JWK thumbprint, RFC 7638). http-01 serves
// it verbatim, dns-01 publishes base64url(SHA-256(key authorization)) in a
// TXT record (§8.4), and tls-alpn-01 carries SHA-256(key authorization) in
// the acmeIdentifier extension (RFC 8737). Pure functions.

#include <array>
#include <string>
#include <string_view>

#include "issuer/crypto/jose/jwk.h"

namespace keystep::acme {

[[nodiscard]] std::string key_authorization(std::string_view token, const jose::Jwk& account_key);
// dns01_txt_value is what _acme-challenge.<name> must hold.
[[nodiscard]] std::string dns01_txt_value(std::string_view key_authorization);
// tls_alpn01_digest is the 32 bytes the acmeIdentifier extension must hold.
[[nodiscard]] std::array<unsigned char, 32> tls_alpn01_digest(std::string_view key_authorization);
// is_valid_token: at least 128 bits of base64url (22 characters) and nothing else.
[[nodiscard]] bool is_valid_token(std::string_view token);

}  // namespace keystep::acme
