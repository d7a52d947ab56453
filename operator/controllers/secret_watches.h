#pragma once
// SecretWatches keeps one informer per CA Secret an issuer references,
// each narrowed by fieldSelector metadata.name=<name>, so the operator
// needs read access to exactly those Secrets (RBAC resourceNames) and holds
// no other Secret's data in memory. A change to a watched Secret calls
// on_change(ns, name). Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "issuer/common/error.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"

namespace keystep::controllers {

class SecretWatches {
 public:
  using OnChange = std::function<void(const std::string& ns, const std::string& name)>;
  SecretWatches(kube::Client& client, OnChange on_change) : client_(client), on_change_(std::move(on_change)) {}
  ~SecretWatches();

  // get returns the Secret ns/name from its informer (started on first use,
  // waited for up to 5 s), nullopt when it does not exist; unavailable if the
  // informer cannot sync (no access, API down).
  [[nodiscard]] Result<std::optional<nlohmann::json>> get(const std::string& ns, const std::string& name);
  // forget stops watching ns/name.
  void forget(const std::string& ns, const std::string& name);
  void stop();

 private:
  kube::Client& client_;
  OnChange on_change_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<kube::Informer>> informers_;
};

}  // namespace keystep::controllers
