#include "issuer/acme/key_authorization.h"

#include <openssl/sha.h>

#include <algorithm>

#include "issuer/common/base64.h"

namespace keystep::acme {

std::string key_authorization(std::string_view token, const jose::Jwk& account_key) {
  return std::string(token) + "." + account_key.thumbprint();
}

std::array<unsigned char, 32> tls_alpn01_digest(std::string_view key_authorization) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(key_authorization.data()), key_authorization.size(), digest.data());
  return digest;
}

std::string dns01_txt_value(std::string_view key_authorization) {
  const auto digest = tls_alpn01_digest(key_authorization);
  return common::base64url_encode(digest.data(), digest.size());
}

bool is_valid_token(std::string_view token) {
  return token.size() >= 22 && std::all_of(token.begin(), token.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_';
         });
}

}  // namespace keystep::acme
