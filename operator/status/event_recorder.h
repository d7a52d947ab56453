#pragma once
// EventRecorder writes core/v1 Events about an object, the ones
// `kubectl describe` lists under Events. A repeat of the same reason and
// message for the same object within an hour bumps the existing Event's count
// and lastTimestamp instead of creating a new one (as client-go's
// correlator does), so a retry loop never floods the namespace. Events of
// cluster-scoped objects go to the "default" namespace, as kubectl expects.
// Failure to record is logged at debug level and otherwise ignored: an
// Event is a courtesy, never a reason to fail a reconcile.
// Thread-safe.

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "operator/kube/client.h"

namespace keystep::kube_status {

enum class EventType { normal, warning };

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, const common::Clock& clock, std::string component, std::string host);

  // record an Event about `object` (a full object with apiVersion, kind,
  // metadata.name/namespace/uid/resourceVersion).
  void record(const nlohmann::json& object, EventType type, const std::string& reason, const std::string& message);

 private:
  struct Seen {
    std::string ns;
    std::string name;
    int count = 0;
    common::TimePoint last;
  };
  kube::Client& client_;
  const common::Clock& clock_;
  std::string component_;
  std::string host_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // uid + reason + message
};

}  // namespace keystep::kube_status
