#pragma once
// Manager runs the operator inside `keystep serve`: informers for
// StepClusterIssuers, StepIssuers and CertificateRequests (always running,
// so a replica that becomes leader starts with a warm cache), the per-Secret
// watches, two work queues with their workers, and leader election. Only the
// Lease holder reconciles; on becoming leader it loads every issuer first,
// then queues every CertificateRequest, so no request is judged against an
// issuer not yet loaded. Every replica loads the issuers (only the leader
// reports their status) and serves the HTTP API, including the provisioners
// of StepClusterIssuers when given a Directory.

#include <atomic>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/metrics/metrics.h"
#include "issuer/storage/store.h"
#include "operator/controllers/certificate_request_controller.h"
#include "operator/controllers/issuer_controller.h"
#include "operator/controllers/issuer_registry.h"
#include "operator/controllers/secret_watches.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"
#include "operator/kube/work_queue.h"
#include "operator/leader/lease_elector.h"
#include "operator/status/event_recorder.h"

namespace keystep::controllers {

struct ManagerOptions {
  std::vector<std::string> dns_names;      // the CA server's names
  bool leader_election = true;             // false: act as leader at once (one replica)
  leader::LeaseElectorOptions lease;       // namespace, name, identity, timings
  int workers = 2;                         // CertificateRequest workers
  std::chrono::seconds sync_timeout{30};   // for the first list of each informer
  authority::Directory* directory = nullptr;            // gets the issuers whose provisioners HTTP serves
  provisioners::TokenReviewer* token_reviewer = nullptr;  // for issuers' K8sSA provisioners
  provisioners::TokenReviewer* jwks_verifier = nullptr;   // idem, tokenVerification: JWKS
  std::vector<std::string> reserved_names;      // keystep.yaml's provisioner names
  std::vector<std::string> reserved_audiences;  // and its K8sSA audiences
};

class Manager {
 public:
  Manager(kube::Client& client, storage::Store& store, const common::Clock& clock, metrics::Metrics* metrics,
          ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // start begins watching and electing; unavailable when the informers do
  // not sync in time (no access to the CRDs, CRDs not installed).
  [[nodiscard]] Status start();
  void stop();

  [[nodiscard]] bool is_leader() const { return leading_.load(); }
  [[nodiscard]] IssuerRegistry& registry() { return registry_; }

 private:
  void on_started_leading();
  void on_stopped_leading();
  void enqueue_requests_for(const IssuerRef& ref);
  // reconcile_issuer runs one issuer reconcile; one at a time (the worker
  // and a new leader's initial load).
  Outcome reconcile_issuer(const IssuerRef& ref);
  void issuer_worker();
  void request_worker();
  void settle(kube::WorkQueue& queue, const std::string& key, const Outcome& outcome);

  kube::Client& client_;
  storage::Store& store_;
  const common::Clock& clock_;
  metrics::Metrics* metrics_;
  ManagerOptions options_;
  kube::Informer cluster_issuers_;
  kube::Informer issuers_;
  kube::Informer requests_;
  kube::WorkQueue issuer_queue_;
  kube::WorkQueue request_queue_;
  IssuerRegistry registry_;
  kube_status::EventRecorder events_;
  SecretWatches secrets_;
  std::mutex issuer_mu_;
  IssuerReconciler issuer_reconciler_;
  CertificateRequestReconciler request_reconciler_;
  std::unique_ptr<leader::LeaseElector> elector_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopped_{false};
  std::vector<std::thread> threads_;
};

// issuer_key encodes an IssuerRef as a queue key ("c/name", "n/ns/name").
[[nodiscard]] std::string issuer_key(const IssuerRef& ref);
[[nodiscard]] IssuerRef parse_issuer_key(const std::string& key);

}  // namespace keystep::controllers
