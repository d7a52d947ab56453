#pragma once
// SignedRequest is a POST to an ACME resource (RFC 8555 §6.2): a flattened
// JSON JWS whose protected header names the signing key — an embedded
// "jwk" (newAccount, revokeCert with the certificate's key) or the "kid"
// account URL (everything else) — and carries the replay "nonce" and the
// "url" the request was sent to.
//
// parse_signed_request checks everything that needs no state: the body is
// exactly {protected, payload, signature}; alg is one of ES256, RS256,
// EdDSA (else badSignatureAlgorithm); no "crit"; exactly one of jwk and kid,
// the one the resource expects (malformed); an embedded jwk is a public key;
// url equals the URL the request arrived at (unauthorized); a nonce is
// present (badNonce). Whether the nonce is fresh, and which account a kid
// names, are the caller's (the Store's) to decide; verify_signature then
// checks the signature with the account's key or the embedded one.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "issuer/acme/problem.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/jose/jws.h"

namespace keystep::acme {

// any: either (revokeCert takes an account or the certificate's key).
enum class KeyReference { jwk, kid, any };

struct SignedRequest {
  jose::Jws jws;
  std::string url;
  std::string nonce;
  std::string kid;                // the account URL, for kid requests
  std::optional<jose::Jwk> jwk;   // the embedded key, for jwk requests

  // post_as_get: an empty payload (RFC 8555 §6.3), a GET with authentication.
  [[nodiscard]] bool post_as_get() const { return jws.payload.empty(); }
  // payload_json parses a non-empty payload as a JSON object (malformed otherwise).
  [[nodiscard]] tl::expected<nlohmann::json, Problem> payload_json() const;
};

// kMaxRequestBytes bounds an ACME request body (a CSR of an RSA-8192 key
// with many names stays well below it).
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

[[nodiscard]] tl::expected<SignedRequest, Problem> parse_signed_request(std::string_view body,
                                                                        std::string_view request_url,
                                                                        KeyReference expected);

// parse_inner_jws reads the inner JWS of a keyChange (RFC 8555 §7.3.5) or
// an External Account Binding (§7.3.4), a flattened JWS in the outer
// payload: it must carry url (equal to outer_url) and, for a keyChange, an
// embedded jwk and no nonce. It is not verified here.
struct InnerJws {
  jose::Jws jws;
  std::optional<jose::Jwk> jwk;  // keyChange: the new key
};
[[nodiscard]] tl::expected<InnerJws, Problem> parse_inner_jws(const nlohmann::json& flattened,
                                                              std::string_view outer_url, bool want_jwk);

// verify_signature checks the JWS signature with key (the account's, or the
// embedded jwk); a malformed problem when it does not verify or alg does not
// suit the key.
[[nodiscard]] std::optional<Problem> verify_signature(const SignedRequest& request, const jose::Jwk& key);

}  // namespace keystep::acme
