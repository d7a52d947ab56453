#pragma once
// CertificateRequestReconciler signs cert-manager CertificateRequests whose
// issuerRef.group is keystep.dev, following cert-manager's external-issuer
// contract:
// - other groups are skipped; requests already Ready, Failed or Denied are
//   left alone;
// - nothing happens until the request is Approved; Denied -> Ready=False
//   reason Denied with failureTime;
// - an issuer that is missing, not Ready or not yet reconciled at its
//   current generation -> Pending with the reason, retried with backoff;
// - a CSR or policy rejection -> Failed with failureTime (and
//   InvalidRequest=True for malformed input), with a message a user can act
//   on; a transient error (API server, database) stays Pending and is
//   retried — never Failed;
// - success -> status.certificate (leaf then chain), status.ca (root),
//   Ready=True reason Issued.
// Exactly one certificate per request UID: the Authority's ledger enforces
// it, so a retried or raced request gets the same certificate back.
//
// RBAC: cert-manager.io certificaterequests get,list,watch;
// certificaterequests/status patch; events create,patch.

#include "issuer/common/clock.h"
#include "issuer/metrics/metrics.h"
#include "operator/controllers/issuer_registry.h"
#include "operator/controllers/outcome.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"
#include "operator/status/event_recorder.h"

namespace keystep::controllers {

struct CertificateRequestReconcilerDeps {
  kube::Client& client;
  kube::Informer& requests;
  kube::Informer& cluster_issuers;
  kube::Informer& issuers;
  IssuerRegistry& registry;
  kube_status::EventRecorder& events;
  const common::Clock& clock;
  metrics::Metrics* metrics = nullptr;
};

class CertificateRequestReconciler {
 public:
  explicit CertificateRequestReconciler(CertificateRequestReconcilerDeps deps) : d_(std::move(deps)) {}
  Outcome reconcile(const kube::ObjectKey& key);

 private:
  // write sets the Ready condition (plus extra status fields), records an
  // Event when the condition changes, and returns `outcome` — or retry when
  // the status write itself failed.
  Outcome write(const nlohmann::json& cr, const std::string& status, const std::string& reason,
                const std::string& message, nlohmann::json extra, Outcome outcome, const char* metric);

  CertificateRequestReconcilerDeps d_;
};

}  // namespace keystep::controllers
