#pragma once
// ClientIdentity is a certificate chain and its private key, read from the
// CRT and KEY files a certificate was saved in (`keystep ca certificate`):
// what `keystep ca renew` and `keystep ca revoke --cert` present to the CA,
// over mTLS or in a renew token. read_client_identity decrypts KEY with
// password when given, and fails, naming the file, when a file cannot be
// read, KEY is not a key (or encrypted without a password), or KEY is not
// the key of CRT's first certificate.

#include <filesystem>
#include <string>
#include <vector>

#include "cli/ca_client.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::cli {

struct ClientIdentity {
  std::vector<crypto::Certificate> chain;  // leaf first, then intermediates; never empty
  crypto::EvpPkeyPtr key;
  crypto::SecretBytes key_pem;  // PKCS#8, unencrypted, for the TLS handshake

  [[nodiscard]] const crypto::Certificate& leaf() const { return chain.front(); }
  // presented_by returns a copy of client that shows this identity in the
  // TLS handshake.
  [[nodiscard]] CaClient presented_by(const CaClient& client) const;
};

[[nodiscard]] Result<ClientIdentity> read_client_identity(const std::filesystem::path& crt_file,
                                                          const std::filesystem::path& key_file,
                                                          const crypto::SecretBytes* password = nullptr);

}  // namespace keystep::cli
