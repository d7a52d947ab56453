#pragma once
// KubeTokenReviewer implements the K8sSA provisioner's TokenReviewer over
// the API server: each review() POSTs an authentication.k8s.io/v1
// TokenReview. A token the server does not authenticate is unauthenticated
// with the server's status.error; API errors pass through as the client
// mapped them (unavailable when unreachable). The token goes in the request
// body only: never into a message or a log line. Thread-safe as the Client
// is; the Client must outlive the reviewer.

#include "issuer/provisioners/k8ssa/jwks_verifier.h"
#include "issuer/provisioners/k8ssa/token_reviewer.h"
#include "operator/kube/client.h"

namespace keystep::kube {

class KubeTokenReviewer final : public provisioners::TokenReviewer {
 public:
  explicit KubeTokenReviewer(Client& client) : client_(client) {}

  [[nodiscard]] Result<provisioners::ServiceAccountIdentity> review(
      std::string_view token, const std::vector<std::string>& audiences) override;

 private:
  Client& client_;
};

// fetch_service_account_keys reads the API server's service-account issuer
// (/.well-known/openid-configuration) and its keys (/openid/v1/jwks): what
// a JwksVerifier verifies tokens with. RBAC: nonResourceURLs get on both
// (the default system:service-account-issuer-discovery ClusterRole).
[[nodiscard]] Result<provisioners::ServiceAccountKeys> fetch_service_account_keys(Client& client);

// identity_from_review reads a TokenReview response (its status), as
// review() does; exposed for tests.
[[nodiscard]] Result<provisioners::ServiceAccountIdentity> identity_from_review(const nlohmann::json& review);

}  // namespace keystep::kube
