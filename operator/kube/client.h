#pragma once
// Client is a synchronous Kubernetes REST client over cpprestsdk: typed by
// ResourceType, objects as nlohmann::json. It re-reads a token file before
// each request (rotated bound tokens), verifies the API server against the
// config's CA, and presents a client certificate when configured.
// Thread-safe: one Client is shared by every informer and controller.
//
// Errors from the API server are mapped once, here, keeping its message
// (the Status object's "message"):
//   400, 422 -> invalid_argument     401 -> unauthenticated
//   403      -> permission_denied    404 -> not_found
//   409      -> already_exists (reason AlreadyExists) or
//               unavailable with message prefix "conflict: " (reason Conflict:
//               a stale resourceVersion; re-read and retry)
//   410      -> failed_precondition ("gone: ..."; the resourceVersion expired)
//   429, 5xx, timeouts, connection errors -> unavailable
// is_conflict() and is_gone() tell those two apart for the callers that care
// (status writers, leader election, the informer's 410 relist).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/error.h"
#include "operator/kube/kube_config.h"
#include "operator/kube/resource.h"

namespace keystep::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // "" = most recent
  int limit = 500;               // pages of this size, continued until done
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // of the list: start a watch from here
};

struct WatchEvent {
  enum class Type { added, modified, deleted, bookmark };
  Type type;
  nlohmann::json object;
};

struct WatchOptions {
  std::string resource_version;  // start after this version (from a list)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  std::chrono::seconds timeout{300};  // timeoutSeconds: the server ends the watch then
};

// WatchEnd says why a watch stopped without an error: the server closed it
// (timeout) or the caller stopped it. last_resource_version is the version of
// the last event or bookmark seen, to resume from.
struct WatchEnd {
  std::string last_resource_version;
  bool stopped = false;
};

class Client {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Client>> create(KubeConfig config);
  virtual ~Client() = default;

  [[nodiscard]] virtual Result<nlohmann::json> get(const ResourceType& type, const ObjectKey& key) = 0;
  [[nodiscard]] virtual Result<ObjectList> list(const ResourceType& type, const std::string& ns,
                                                const ListOptions& options = {}) = 0;
  // create POSTs object into ns ("" for cluster-scoped types).
  [[nodiscard]] virtual Result<nlohmann::json> create(const ResourceType& type, const std::string& ns,
                                                      const nlohmann::json& object) = 0;
  // update PUTs object (its metadata names it; resourceVersion is honoured:
  // a stale one is a conflict). subresource "status" updates status only.
  [[nodiscard]] virtual Result<nlohmann::json> update(const ResourceType& type, const nlohmann::json& object,
                                                      const std::string& subresource = "") = 0;
  // merge_patch sends an RFC 7386 JSON merge patch.
  [[nodiscard]] virtual Result<nlohmann::json> merge_patch(const ResourceType& type, const ObjectKey& key,
                                                           const nlohmann::json& patch,
                                                           const std::string& subresource = "") = 0;
  [[nodiscard]] virtual Status remove(const ResourceType& type, const ObjectKey& key) = 0;

  // watch streams events to on_event until the server ends the watch, `stop`
  // becomes true (checked at least every second), or on_event returns false.
  // An ERROR event carrying a Status is returned as its mapped error (410:
  // failed_precondition "gone: ...").
  [[nodiscard]] virtual Result<WatchEnd> watch(const ResourceType& type, const std::string& ns,
                                               const WatchOptions& options,
                                               const std::function<bool(const WatchEvent&)>& on_event,
                                               const std::atomic<bool>& stop) = 0;

  // raw is an escape hatch for paths outside ResourceType (TokenReview is a
  // create; /openid/v1/jwks is a GET): returns the decoded JSON body.
  [[nodiscard]] virtual Result<nlohmann::json> raw(const std::string& method, const std::string& path,
                                                   const std::optional<nlohmann::json>& body = std::nullopt) = 0;

  // default_namespace is the config's namespace.
  [[nodiscard]] virtual const std::string& default_namespace() const = 0;
};

// is_conflict tells a stale-resourceVersion 409 from other errors.
[[nodiscard]] bool is_conflict(const Error& e);
// is_gone tells an expired resourceVersion (410).
[[nodiscard]] bool is_gone(const Error& e);

}  // namespace keystep::kube
