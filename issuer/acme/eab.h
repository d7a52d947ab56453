#pragma once
// verify_eab checks a newAccount's External Account Binding (RFC 8555
// §7.3.4): a flattened JWS whose protected header has alg HS256, HS384 or
// HS512, kid = one of the provisioner's EAB key ids, url = the newAccount
// URL (and no nonce), whose payload is the account's public JWK, MACed
// with that key's HMAC key. Returns the key id; unauthorized when it does
// not verify or names no key, malformed for a bad shape. Pure function.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "issuer/acme/acme_config.h"
#include "issuer/acme/problem.h"
#include "issuer/crypto/jose/jwk.h"

namespace keystep::acme {

[[nodiscard]] tl::expected<std::string, Problem> verify_eab(const nlohmann::json& binding, std::string_view url,
                                                            const jose::Jwk& account_key,
                                                            const AcmeProvisionerConfig& config);

// sign_eab makes a binding (for tests and the keystep CLI).
[[nodiscard]] nlohmann::json sign_eab(const EabKey& key, std::string_view url, const jose::Jwk& account_key,
                                      std::string_view alg = "HS256");

}  // namespace keystep::acme
