#pragma once
// load_provisioner_key reads the private JWK a JWK provisioner signs its
// one-time tokens with. The file may hold:
//   - a compact JWE (PBES2) of the private JWK, as `keystep init` writes it
//     and as step-ca keeps a provisioner's encryptedKey;
//   - the same JWE in JSON serialization, as `step crypto jwk create` writes
//     it: {"protected","encrypted_key","iv","ciphertext","tag"};
//   - a plain private JWK, as `--no-password` writes it.
//
// An encrypted file without a password fails with failed_precondition
// "provisioner key FILE is encrypted: give --password-file"; a wrong password
// with permission_denied; a public-only or malformed key with
// invalid_argument. The file's bytes and the decrypted JWK text are wiped
// before returning; the key itself lives on in the returned Jwk.

#include <filesystem>

#include "issuer/common/error.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::cli {

[[nodiscard]] Result<jose::Jwk> load_provisioner_key(const std::filesystem::path& path,
                                                     const crypto::SecretBytes* password);

}  // namespace keystep::cli
