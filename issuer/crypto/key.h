#pragma once
// Key generation, PEM (de)serialization and the leaf key policy.
//
// Private keys are written as PKCS#8 PEM, encrypted with AES-256-CBC and a
// PBKDF2-derived key when a password is given ("ENCRYPTED PRIVATE KEY", which
// openssl and step both read). Any PEM private key openssl reads is accepted.

#include <optional>
#include <string>
#include <string_view>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::crypto {

// KeySpec names a key to generate: EC P-256 (default), P-384, RSA of
// 2048/3072/4096 bits, or Ed25519 (kty "OKP").
struct KeySpec {
  std::string kty = "EC";  // EC, RSA, OKP
  std::string crv = "P-256";
  int bits = 0;  // RSA only; 0 means 2048
};

// parse_key_spec validates the CLI's --kty/--crv/--size combination.
[[nodiscard]] Result<KeySpec> parse_key_spec(std::string_view kty, std::string_view crv, int bits);

[[nodiscard]] Result<EvpPkeyPtr> generate_key(const KeySpec& spec);

[[nodiscard]] Result<EvpPkeyPtr> private_key_from_pem(std::string_view pem,
                                                      const SecretBytes* password = nullptr);
[[nodiscard]] Result<EvpPkeyPtr> public_key_from_pem(std::string_view pem);
[[nodiscard]] Result<SecretBytes> private_key_to_pem(EVP_PKEY* key, const SecretBytes* password = nullptr);
[[nodiscard]] Result<std::string> public_key_to_pem(EVP_PKEY* key);

// describe_key names a key for users: "EC P-256", "RSA 2048", "Ed25519".
[[nodiscard]] std::string describe_key(EVP_PKEY* key);

// check_leaf_key applies the key policy to a key that asks for a
// certificate: RSA of 2048..8192 bits, EC P-256 or P-384, or Ed25519. A weak
// RSA key is permission_denied; any other kind is invalid_argument; both say
// why and what is accepted.
[[nodiscard]] Status check_leaf_key(EVP_PKEY* key);

// same_public_key compares the public halves of two keys.
[[nodiscard]] bool same_public_key(EVP_PKEY* a, EVP_PKEY* b);

// signature_digest returns the digest to sign with `key` (nullptr for Ed25519).
[[nodiscard]] const EVP_MD* signature_digest(EVP_PKEY* key);

}  // namespace keystep::crypto
