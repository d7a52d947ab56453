#pragma once
// K8sSaProvisionerConfig configures one K8sSA provisioner: pods present their
// projected service-account token, the API server reviews it (TokenReview,
// audience-bound), and the certificate's names come from the service
// account and namespace through name templates — never from the CSR.

#include <optional>
#include <string>
#include <vector>

#include "issuer/policy/claims.h"

namespace keystep::provisioners {

// Placeholders a name template may use: {serviceAccount}, {namespace},
// {trustDomain}, {podName} (empty for unbound tokens: a template using it
// yields no name then).
inline const std::vector<std::string> kDefaultK8sSaNameTemplates = {
    "{serviceAccount}.{namespace}.svc",
    "{serviceAccount}.{namespace}.svc.cluster.local",
    "spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccount}",
};

// K8sSaTokenVerification is how a K8sSA provisioner checks tokens
// (tokenVerification:): a TokenReview per token (the API server's word,
// which also refuses tokens of deleted pods and service accounts), or
// locally against the API server's service-account issuer keys (no request
// per token; see JwksVerifier for what it cannot tell).
enum class K8sSaTokenVerification { token_review, jwks };

struct K8sSaProvisionerConfig {
  std::string name;
  std::vector<std::string> audiences;        // audiences:; the token must be bound to one; default {name}
  std::vector<std::string> name_templates = kDefaultK8sSaNameTemplates;  // names:
  std::string trust_domain = "cluster.local";  // trustDomain:
  std::vector<std::string> namespaces;       // namespaces: the only namespaces served; empty = all
  std::optional<policy::Claims> claims;      // claims: overrides the issuer's
  K8sSaTokenVerification verification = K8sSaTokenVerification::token_review;  // tokenVerification: TokenReview|JWKS
};

}  // namespace keystep::provisioners
