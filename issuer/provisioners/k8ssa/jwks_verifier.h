#pragma once
// JwksVerifier is the local alternative to a TokenReview for K8sSA
// provisioners with `tokenVerification: JWKS`: it verifies a bound
// service-account token against the API server's service-account issuer
// keys (/openid/v1/jwks) and its issuer (/.well-known/openid-configuration),
// with no request per token. It checks the signature (RS256/ES256 keys of
// the set, by kid), iss, the audiences, exp and nbf (one minute of leeway,
// as the API server allows) and that the kubernetes.io claims agree with
// sub. What it cannot know, unlike a TokenReview: whether the bound pod,
// Secret or service account was deleted since the token was minted — such a
// token stays valid until it expires. Legacy (Secret-based) tokens are
// refused: they are not signed by the issuer keys.
//
// The key set is fetched on first use, again every refresh period, and at
// once (at most every min_refetch) when a token names an unknown kid, so a
// rotated signing key is picked up. Errors: unauthenticated for a token that
// does not verify (messages never contain the token); unavailable when the
// key set cannot be fetched. Thread-safe.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/provisioners/k8ssa/token_reviewer.h"

namespace keystep::provisioners {

// ServiceAccountKeys is what the API server publishes: its issuer and JWKS.
struct ServiceAccountKeys {
  std::string issuer;  // "iss" of the tokens it mints
  nlohmann::json jwks;  // {"keys":[…]}
};

struct JwksVerifierOptions {
  std::chrono::seconds refresh{600};      // refetch the keys this often
  std::chrono::seconds min_refetch{10};   // for unknown kids, at most this often
  std::chrono::seconds leeway{60};        // for exp and nbf
};

class JwksVerifier final : public TokenReviewer {
 public:
  using Fetch = std::function<Result<ServiceAccountKeys>()>;
  JwksVerifier(Fetch fetch, const common::Clock& clock, JwksVerifierOptions options = {});

  [[nodiscard]] Result<ServiceAccountIdentity> review(std::string_view token,
                                                      const std::vector<std::string>& audiences) override;

 private:
  struct KeySet {
    std::string issuer;
    std::vector<std::pair<std::string, jose::Jwk>> keys;  // kid, key
    common::TimePoint fetched_at;
  };
  // keys returns the current set, fetching it when stale or when `kid` is
  // not in it (and the last fetch is old enough).
  Result<KeySet> keys(const std::string& kid);
  Result<KeySet> fetch_locked();

  Fetch fetch_;
  const common::Clock& clock_;
  JwksVerifierOptions options_;
  std::mutex mu_;
  std::optional<KeySet> cache_;
  common::TimePoint last_attempt_{};
};

// parse_service_account_keys reads a JWKS document into keys (kid, key);
// keys of other uses or unsupported types are skipped. invalid_argument if
// none is usable.
[[nodiscard]] Result<std::vector<std::pair<std::string, jose::Jwk>>> parse_service_account_keys(
    const nlohmann::json& jwks);

}  // namespace keystep::provisioners
