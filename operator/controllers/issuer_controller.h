#pragma once
// IssuerReconciler brings one StepIssuer or StepClusterIssuer to life: it
// parses the spec (the same schema as keystep.yaml), loads the CA Secret it
// names with the standalone server's checks, builds the Authority that signs
// for it, and reports through status (Ready with a precise reason and
// observedGeneration; status.intermediate and status.root) and Events.
//
// A rotated Secret is picked up when its watch fires: the new chain replaces
// the old in the registry only once it has loaded, so signing never fails in
// between; a rotated Secret that does not load keeps the old chain signing and
// says so with a Warning. Thirty days before the intermediate expires the
// issuer gets an IntermediateExpiring condition and a Warning Event; the
// reconcile requeues itself for that moment.
//
// Every replica reconciles, so every replica's registry (and through it the
// HTTP API) holds the same loaded issuers; only the leader (`reporting`)
// writes status and Events. A StepClusterIssuer's provisioners are served
// over HTTP, so their names — and the audiences of K8sSA provisioners — are
// unique cluster-wide: keystep.yaml's come first, then issuers by
// creationTimestamp (then name); a later issuer that reuses one is not Ready
// with reason ProvisionerConflict. A StepIssuer has no provisioners (it
// signs CertificateRequests only); one that lists some is InvalidSpec.
//
// RBAC: keystep.dev stepissuers, stepclusterissuers get,list,watch;
// stepissuers/status, stepclusterissuers/status patch; secrets get,list,watch
// (the referenced ones); events create,patch.

#include <functional>
#include <string>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/metrics/metrics.h"
#include "issuer/storage/store.h"
#include "operator/controllers/issuer_registry.h"
#include "operator/controllers/outcome.h"
#include "operator/controllers/secret_watches.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"
#include "operator/status/event_recorder.h"

namespace keystep::controllers {

inline constexpr std::chrono::hours kExpiryWarning{24 * 30};

struct IssuerReconcilerDeps {
  kube::Client& client;
  kube::Informer& cluster_issuers;
  kube::Informer& issuers;
  SecretWatches& secrets;
  IssuerRegistry& registry;
  kube_status::EventRecorder& events;
  storage::Store& store;
  const common::Clock& clock;
  metrics::Metrics* metrics = nullptr;
  std::vector<std::string> dns_names;  // the CA server's names: audiences of JWK tokens
  // on_ready runs when an issuer becomes Ready (its pending requests retry).
  std::function<void(const IssuerRef&)> on_ready;
  // reporting tells whether this replica writes status and Events (the
  // leader); unset: always.
  std::function<bool()> reporting;
  // token_reviewer reviews the tokens of issuers' K8sSA provisioners
  // (borrowed; may be null: such tokens are then refused as unavailable).
  provisioners::TokenReviewer* token_reviewer = nullptr;
  provisioners::TokenReviewer* jwks_verifier = nullptr;  // for tokenVerification: JWKS
  // reserved_names and reserved_audiences are keystep.yaml's provisioner
  // names and K8sSA audiences, which no issuer may reuse.
  std::vector<std::string> reserved_names;
  std::vector<std::string> reserved_audiences;
};

class IssuerReconciler {
 public:
  explicit IssuerReconciler(IssuerReconcilerDeps deps) : d_(std::move(deps)) {}
  Outcome reconcile(const IssuerRef& ref);

 private:
  Outcome not_ready(const nlohmann::json& object, const IssuerRef& ref, std::int64_t generation,
                    const std::string& reason, const std::string& message, Outcome outcome,
                    const config::SecretRef& secret = {});
  void write_status(const nlohmann::json& object, const IssuerRef& ref, const nlohmann::json& status);
  void record_event(const nlohmann::json& object, kube_status::EventType type, const std::string& reason,
                    const std::string& message);
  [[nodiscard]] bool reporting() const { return !d_.reporting || d_.reporting(); }
  // provisioner_conflict explains why `spec` of cluster issuer `object` may
  // not serve its provisioners; "" when it may.
  [[nodiscard]] std::string provisioner_conflict(const nlohmann::json& object, const config::IssuerSpec& spec) const;

  IssuerReconcilerDeps d_;
};

}  // namespace keystep::controllers
