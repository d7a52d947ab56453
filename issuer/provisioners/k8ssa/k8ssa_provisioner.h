#pragma once
// K8sSaProvisioner authorizes Kubernetes service-account tokens. Unlike
// step-ca's K8sSA (legacy tokens only, verified against configured public
// keys, CSR names taken verbatim; reference §3), the API server is the
// authority on a token: authorize() sends it to a TokenReviewer bound to this
// provisioner's audiences, and the certificate's names are derived from the
// reviewed identity (namespace, service account, pod) through the name
// templates, never from the CSR or from the token's unverified claims.
// Immutable; safe to share between threads.
//
// Errors: create() is invalid_argument naming the config field; authorize()
// is unauthenticated (the token is not a valid, audience-bound service
// account token), permission_denied (a namespace this provisioner does not
// serve), unavailable (the API server cannot be reached: retry) or internal
// (the review failed for another reason); check_csr() is permission_denied.
// Messages are safe to show the caller and never contain the token.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/csr.h"
#include "issuer/policy/claims.h"
#include "issuer/policy/names.h"
#include "issuer/provisioners/k8ssa/k8ssa_config.h"
#include "issuer/provisioners/k8ssa/token_reviewer.h"
#include "issuer/signing/provisioner_extension.h"

namespace keystep::provisioners {

// kLegacyServiceAccountIssuer is the iss of secret-based (legacy) tokens.
inline constexpr char kLegacyServiceAccountIssuer[] = "kubernetes/serviceaccount";

// K8sSaGrant is what a reviewed service-account token allows.
struct K8sSaGrant {
  std::string ns;               // from the review's username, never the payload
  std::string service_account;  // idem
  std::string pod_name;         // from the review; empty for unbound tokens
  policy::Names names;          // the expanded templates: dns and uris only; common_name = subject
  std::string subject;          // the first DNS name, or "" when the templates give none
  common::TimePoint expires_at;  // the token's exp; `now` for a token without exp (legacy)
  signing::ProvisionerRef provisioner;  // type k8ssa (8), name, empty credential id
};

class K8sSaProvisioner {
 public:
  // create validates config; `path` prefixes error messages (e.g.
  // "provisioners[2]"), default "provisioners[<name>]". The provisioner's
  // claims are config.claims, else issuer_claims.
  [[nodiscard]] static Result<K8sSaProvisioner> create(K8sSaProvisionerConfig config,
                                                       const policy::Claims& issuer_claims,
                                                       std::string_view path = {});

  [[nodiscard]] const std::string& name() const { return config_.name; }
  [[nodiscard]] const policy::Claims& claims() const { return claims_; }
  [[nodiscard]] const std::vector<std::string>& audiences() const { return config_.audiences; }
  [[nodiscard]] const K8sSaProvisionerConfig& config() const { return config_; }
  // to_json is the object /provisioners lists, in step's shape:
  // {"type":"K8sSA","name":…[,"claims":{…}]}; claims only when configured.
  [[nodiscard]] nlohmann::json to_json() const;

  // looks_like_service_account_token tells, from a token's unverified
  // claims, whether it is a Kubernetes service-account token: a legacy one
  // (iss "kubernetes/serviceaccount") or a bound/projected one (a
  // "kubernetes.io" object with a string namespace and a serviceaccount
  // object). Routing only: it proves nothing.
  [[nodiscard]] static bool looks_like_service_account_token(const nlohmann::json& claims);

  // authorize reviews `token` and returns what it grants. Before the review
  // the token must decode as a JWT (its payload is read, unverified, only for
  // exp): an exp more than 60 s in the past is refused without asking the
  // API server. After it, the reviewed username must be a service account's,
  // the reviewed audiences must include one of ours, and its namespace must
  // be served.
  [[nodiscard]] Result<K8sSaGrant> authorize(std::string_view token, TokenReviewer& reviewer,
                                             common::TimePoint now) const;

  // check_csr lets a CSR ask for a subset of the granted names: each of its
  // DNS and URI SANs and its common name, if any, must be granted (DNS
  // names compared case-insensitively); IP and email SANs never are. A CSR
  // without names is fine: the certificate's names come from the grant.
  [[nodiscard]] Status check_csr(const crypto::Csr& csr, const K8sSaGrant& grant) const;

 private:
  K8sSaProvisioner(K8sSaProvisionerConfig config, policy::Claims claims, std::vector<policy::SanType> kinds)
      : config_(std::move(config)), claims_(claims), template_kinds_(std::move(kinds)) {}

  [[nodiscard]] Result<policy::Names> expand_names(const K8sSaGrant& grant) const;

  K8sSaProvisionerConfig config_;  // audiences defaulted
  policy::Claims claims_;
  std::vector<policy::SanType> template_kinds_;  // dns or uri, one per name template
};

}  // namespace keystep::provisioners
