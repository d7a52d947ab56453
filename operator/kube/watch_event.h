#pragma once
// decode_watch_event turns one line of a watch stream (a JSON object
// {"type": ..., "object": ...}) into a WatchEvent. An ERROR event carries a
// Status and comes back as its mapped error (see api_errors.h), so a 410
// is failed_precondition "gone: ..."; a line that is not a watch event is
// internal. `what` names the watch for messages ("watch secrets keystep").

#include <string_view>

#include "issuer/common/error.h"
#include "operator/kube/client.h"

namespace keystep::kube {

[[nodiscard]] Result<WatchEvent> decode_watch_event(std::string_view line, std::string_view what);

// resource_version_of returns metadata.resourceVersion, or "" if absent.
[[nodiscard]] std::string resource_version_of(const nlohmann::json& object);

}  // namespace keystep::kube
