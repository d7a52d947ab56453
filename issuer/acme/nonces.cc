#include "issuer/acme/nonces.h"

#include <openssl/rand.h>

#include "issuer/common/base64.h"

namespace keystep::acme {

Result<std::string> Nonces::issue() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(Errc::internal, "no randomness for a nonce");
  const std::string nonce = common::base64url_encode(bytes, sizeof bytes);
  if (auto s = store_.add_nonce(nonce, clock_.now() + lifetime_); !s) return tl::unexpected(s.error());
  return nonce;
}

std::optional<Problem> Nonces::redeem(const std::string& nonce) {
  auto used = store_.consume_nonce(nonce, clock_.now());
  if (!used) return server_internal("the nonce store is unavailable; retry");
  if (!*used) return bad_nonce("the nonce was already used, has expired or was not issued here; retry with the new one");
  return std::nullopt;
}

}  // namespace keystep::acme
