#include "cli/client_identity.h"

#include <openssl/crypto.h>

#include "issuer/common/file.h"
#include "issuer/crypto/key.h"

namespace keystep::cli {

CaClient ClientIdentity::presented_by(const CaClient& client) const {
  return client.with_client_certificate(crypto::chain_to_pem(chain), key_pem);
}

Result<ClientIdentity> read_client_identity(const std::filesystem::path& crt_file,
                                            const std::filesystem::path& key_file,
                                            const crypto::SecretBytes* password) {
  auto crt_pem = common::read_file(crt_file);
  if (!crt_pem) return tl::unexpected(crt_pem.error());
  auto chain = crypto::Certificate::chain_from_pem(*crt_pem);
  if (!chain) return tl::unexpected(with_context(chain.error(), crt_file.string()));

  auto key_text = common::read_file(key_file);
  if (!key_text) return tl::unexpected(key_text.error());
  const crypto::SecretBytes key_file_pem(*key_text);
  OPENSSL_cleanse(key_text->data(), key_text->size());
  auto key = crypto::private_key_from_pem(key_file_pem.view(), password);
  if (!key) return tl::unexpected(with_context(key.error(), key_file.string()));
  if (!crypto::same_public_key(chain->front().public_key(), key->get())) {
    return fail(Errc::invalid_argument,
                key_file.string() + " is not the private key of the certificate in " + crt_file.string());
  }
  auto key_pem = crypto::private_key_to_pem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error());
  return ClientIdentity{.chain = std::move(*chain), .key = std::move(*key), .key_pem = std::move(*key_pem)};
}

}  // namespace keystep::cli
