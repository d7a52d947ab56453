#pragma once
// ZeroWorkIssuer is the floor `keystep bench certificaterequests --zero-work`
// reads Keystep's figures against: a cert-manager external issuer that does
// only what the API server makes every issuer do. For each approved
// CertificateRequest without a Ready condition it sends one status patch —
// Ready=True reason Issued, with a fixed certificate made once at create()
// in the shape Keystep writes (status.certificate leaf then CA,
// status.ca the CA) — conditional on the resourceVersion, as Keystep's
// controller sends it. It reads no CSR and signs nothing per request.
//
// offer() is called from an informer handler and never blocks; `workers`
// threads read the request from the informer's cache and patch it. A
// conflict or an API error is retried with backoff; after kMaxAttempts the
// request is reported to on_error and dropped. Thread-safe. stop() (or the
// destructor) ends the workers.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/error.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"
#include "operator/kube/work_queue.h"

namespace keystep::cli {

class ZeroWorkIssuer {
 public:
  static constexpr int kMaxAttempts = 5;
  using ErrorHandler = std::function<void(const kube::ObjectKey& key, const std::string& message)>;

  [[nodiscard]] static Result<std::unique_ptr<ZeroWorkIssuer>> create(kube::Client& client,
                                                                      const kube::Informer& requests, int workers,
                                                                      ErrorHandler on_error);
  ~ZeroWorkIssuer();
  ZeroWorkIssuer(const ZeroWorkIssuer&) = delete;
  ZeroWorkIssuer& operator=(const ZeroWorkIssuer&) = delete;

  // offer queues the request if it is approved and has no Ready condition.
  void offer(const nlohmann::json& certificate_request);
  void stop();

 private:
  ZeroWorkIssuer(kube::Client& client, const kube::Informer& requests, ErrorHandler on_error,
                 std::string certificate_b64, std::string ca_b64);
  void work();
  // issue patches one request; false when it should be retried.
  bool issue(const kube::ObjectKey& key, std::string& error);

  kube::Client& client_;
  const kube::Informer& requests_;
  ErrorHandler on_error_;
  const std::string certificate_b64_;
  const std::string ca_b64_;
  kube::WorkQueue queue_;
  std::vector<std::thread> threads_;
};

}  // namespace keystep::cli
