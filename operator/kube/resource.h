#pragma once
// ResourceType names one kind of Kubernetes object (group, version, plural)
// and knows its REST paths; ObjectKey names one object. The kinds Keystep
// uses are constants below.

#include <string>
#include <string_view>

namespace keystep::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "secrets", "certificaterequests"
  std::string kind;     // "Secret"
  bool namespaced = true;

  // api_version is "v1" or "group/version", as objects spell apiVersion.
  [[nodiscard]] std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // collection_path is /api/v1[/namespaces/NS]/PLURAL or
  // /apis/G/V[/namespaces/NS]/PLURAL; ns "" lists across namespaces.
  [[nodiscard]] std::string collection_path(std::string_view ns) const;
  // object_path appends /NAME and, if given, /SUBRESOURCE ("status").
  [[nodiscard]] std::string object_path(std::string_view ns, std::string_view name,
                                        std::string_view subresource = "") const;
};

struct ObjectKey {
  std::string ns;  // "" for cluster-scoped objects
  std::string name;

  // str is "ns/name" or "name", as client-go's cache keys.
  [[nodiscard]] std::string str() const { return ns.empty() ? name : ns + "/" + name; }
  [[nodiscard]] static ObjectKey parse(std::string_view key);
  friend bool operator==(const ObjectKey&, const ObjectKey&) = default;
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;
};

namespace resources {
inline const ResourceType kSecrets{"", "v1", "secrets", "Secret", true};
inline const ResourceType kEvents{"", "v1", "events", "Event", true};
inline const ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceType kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false};
inline const ResourceType kCertificateRequests{"cert-manager.io", "v1", "certificaterequests", "CertificateRequest",
                                               true};
inline const ResourceType kStepIssuers{"keystep.dev", "v1alpha1", "stepissuers", "StepIssuer", true};
inline const ResourceType kStepClusterIssuers{"keystep.dev", "v1alpha1", "stepclusterissuers", "StepClusterIssuer",
                                              false};
}  // namespace resources

}  // namespace keystep::kube
