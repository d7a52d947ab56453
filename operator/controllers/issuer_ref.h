#pragma once
// IssuerRef names a StepIssuer (namespaced) or a StepClusterIssuer, and is
// the one place that resolves which of the two a reference means.

#include <compare>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/resource.h"

namespace keystep::controllers {

inline constexpr const char* kGroup = "keystep.dev";

struct IssuerRef {
  bool cluster_scoped = true;  // StepClusterIssuer; else StepIssuer in ns
  std::string ns;              // StepIssuer only
  std::string name;

  [[nodiscard]] const kube::ResourceType& type() const {
    return cluster_scoped ? kube::resources::kStepClusterIssuers : kube::resources::kStepIssuers;
  }
  [[nodiscard]] kube::ObjectKey key() const { return {cluster_scoped ? "" : ns, name}; }
  // str is "StepClusterIssuer/internal" or "StepIssuer/team-a/internal": the
  // provisioner recorded in the ledger and named in messages.
  [[nodiscard]] std::string str() const {
    return cluster_scoped ? "StepClusterIssuer/" + name : "StepIssuer/" + ns + "/" + name;
  }
  friend auto operator<=>(const IssuerRef&, const IssuerRef&) = default;
  friend bool operator==(const IssuerRef&, const IssuerRef&) = default;
};

// ResolvedIssuerRef is a CertificateRequest's spec.issuerRef, resolved.
struct ResolvedIssuerRef {
  bool ours = false;       // group keystep.dev
  std::string error;       // ours, but the kind is not one we serve
  IssuerRef ref;
};

// resolve_issuer_ref reads spec.issuerRef of a CertificateRequest in
// namespace `ns`: a StepIssuer must be in the request's own namespace.
[[nodiscard]] ResolvedIssuerRef resolve_issuer_ref(const nlohmann::json& certificate_request);

}  // namespace keystep::controllers
