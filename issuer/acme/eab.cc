#include "issuer/acme/eab.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "issuer/acme/signed_request.h"
#include "issuer/common/base64.h"

namespace keystep::acme {
namespace {

const EVP_MD* digest_for(std::string_view alg) {
  if (alg == "HS256") return EVP_sha256();
  if (alg == "HS384") return EVP_sha384();
  if (alg == "HS512") return EVP_sha512();
  return nullptr;
}

std::string mac(const EVP_MD* md, const std::string& key, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), out, &size);
  return std::string(reinterpret_cast<char*>(out), size);
}

}  // namespace

tl::expected<std::string, Problem> verify_eab(const nlohmann::json& binding, std::string_view url,
                                              const jose::Jwk& account_key, const AcmeProvisionerConfig& config) {
  auto inner = parse_inner_jws(binding, url, false);
  if (!inner) {
    Problem p = inner.error();
    p.detail = "externalAccountBinding: " + p.detail;
    return tl::unexpected(std::move(p));
  }
  const auto& jws = inner->jws;
  const EVP_MD* md = digest_for(jws.alg());
  if (md == nullptr) {
    return tl::unexpected(malformed("externalAccountBinding: alg must be HS256, HS384 or HS512"));
  }
  if (jws.header.contains("nonce")) return tl::unexpected(malformed("externalAccountBinding: must not carry a nonce"));
  const std::string kid = jws.kid();
  const EabKey* key = nullptr;
  for (const auto& k : config.eab_keys) {
    if (k.key_id == kid) key = &k;
  }
  if (key == nullptr) return tl::unexpected(unauthorized("externalAccountBinding: unknown key id \"" + kid + "\""));
  const std::string expected = mac(md, key->hmac_key, jws.signing_input);
  if (expected.size() != jws.signature.size() ||
      CRYPTO_memcmp(expected.data(), jws.signature.data(), expected.size()) != 0) {
    return tl::unexpected(unauthorized("externalAccountBinding: the MAC does not verify with key \"" + kid + "\""));
  }
  auto bound = nlohmann::json::parse(jws.payload, nullptr, false);
  auto bound_key = bound.is_object() ? jose::Jwk::from_json(bound) : fail(Errc::invalid_argument, "not a JWK");
  if (!bound_key || bound_key->thumbprint() != account_key.thumbprint()) {
    return tl::unexpected(unauthorized("externalAccountBinding: the payload is not this account's key"));
  }
  return kid;
}

nlohmann::json sign_eab(const EabKey& key, std::string_view url, const jose::Jwk& account_key, std::string_view alg) {
  const nlohmann::json header = {{"alg", alg}, {"kid", key.key_id}, {"url", url}};
  const std::string protected_b64 = common::base64url_encode(header.dump());
  const std::string payload_b64 = common::base64url_encode(account_key.public_json().dump());
  const std::string input = protected_b64 + "." + payload_b64;
  return {{"protected", protected_b64},
          {"payload", payload_b64},
          {"signature", common::base64url_encode(mac(digest_for(alg), key.hmac_key, input))}};
}

}  // namespace keystep::acme
