#pragma once
// TokenReviewer is the seam between the K8sSA provisioner and Kubernetes:
// it asks the API server whether a service-account token is valid for the
// given audiences (a TokenReview). Implemented in operator/kube/ over the
// API server; unit tests use a fake. Implementations are thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::provisioners {

// ServiceAccountIdentity is what a successful review says of the token.
struct ServiceAccountIdentity {
  std::string username;                // "system:serviceaccount:<namespace>:<name>"
  std::string uid;                     // the service account's UID
  std::vector<std::string> groups;
  std::vector<std::string> audiences;  // status.audiences: those the token is valid for
  std::string pod_name;                // extra authentication.kubernetes.io/pod-name, if bound
  std::string pod_uid;
};

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  // review returns the identity of an authenticated token. A token the API
  // server does not authenticate (bad signature, expired, wrong audience,
  // deleted pod or service account) is unauthenticated with the server's
  // reason; an API server that cannot be reached is unavailable.
  [[nodiscard]] virtual Result<ServiceAccountIdentity> review(std::string_view token,
                                                              const std::vector<std::string>& audiences) = 0;
};

}  // namespace keystep::provisioners
