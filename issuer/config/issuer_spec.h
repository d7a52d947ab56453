#pragma once
// IssuerSpec is the CA part of Keystep's one schema: claims, policy and
// provisioners, as a StepIssuer/StepClusterIssuer spec holds them and as the
// standalone keystep.yaml holds them at its top level. Both are read by the
// same code (DESIGN.md "One schema for both modes"); the CRDs in crds/
// describe exactly what it accepts.
//
// Parsing is strict: unknown fields, fields given twice, fields of another
// provisioner type, a provisioner name used twice and invalid name-policy
// rules are invalid_argument errors whose message starts with the field
// path: "spec.claims.maxDuration: ...", "provisioners[1].type: ...".
// Provisioner types are JWK (the default when type is absent), K8sSA and
// ACME, compared without regard to case as step-ca does. Pure functions;
// thread-safe.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/acme/acme_config.h"
#include "issuer/common/error.h"
#include "issuer/policy/claims.h"
#include "issuer/policy/name_policy.h"
#include "issuer/provisioners/jwk/jwk_provisioner.h"
#include "issuer/provisioners/k8ssa/k8ssa_config.h"

namespace YAML {
class Node;
}

namespace keystep::config {

struct IssuerSpec {
  policy::Claims claims;                                     // claims: default 5m/24h/24h, renewal allowed
  policy::NamePolicyConfig policy;                           // policy: allow/deny/allowWildcardNames; default none
  bool allow_ca = false;                                     // policy.allowCA: CertificateRequests with isCA may be signed
  std::vector<provisioners::JwkProvisionerConfig> jwk;       // provisioners[] of type JWK: name, key, encryptedKey, claims
  std::vector<provisioners::K8sSaProvisionerConfig> k8ssa;   // type K8sSA: name, audiences (default [name]), names,
                                                             // trustDomain, namespaces, claims
  std::vector<acme::AcmeProvisionerConfig> acme;             // type ACME: see acme_spec.h
};

struct SecretRef {
  std::string name;
  std::string ns;  // namespace
};

// IssuerResourceSpec is the whole .spec of a StepIssuer/StepClusterIssuer.
struct IssuerResourceSpec {
  SecretRef ca_secret;  // spec.ca.secretRef: tls.crt (+chain), tls.key, ca.crt
  IssuerSpec spec;
};

// parse_issuer_spec_yaml reads the keys claims, policy and provisioners of
// the mapping `node`; other keys are the caller's to read and to police.
// `path` prefixes every field path ("" for keystep.yaml, "spec" for a CRD).
// A provisioner's claims start from the issuer's claims.
[[nodiscard]] Result<IssuerSpec> parse_issuer_spec_yaml(const YAML::Node& node, const std::string& path = "");

// parse_issuer_resource_spec reads a CRD's .spec (JSON as the API server
// returns it) through the same code: ca.secretRef.{name,namespace} (both
// required and non-empty, except as below), claims, policy, provisioners.
// cluster_scoped (StepClusterIssuer): secretRef.namespace is required.
// Otherwise (StepIssuer) it must be absent or equal to object_namespace, and
// defaults to it: a namespaced issuer reads Secrets of its own namespace only.
[[nodiscard]] Result<IssuerResourceSpec> parse_issuer_resource_spec(const nlohmann::json& spec, bool cluster_scoped,
                                                                    const std::string& object_namespace);

}  // namespace keystep::config
