#pragma once
// map_status turns an API server failure (HTTP status and the Status object
// it sent) into Keystep's Error, once, as client.h describes. `what` names
// the request ("get secrets keystep/foo") and leads the message, followed by
// the HTTP code and the Status message:
//   get secrets keystep/foo: 404 secrets "foo" not found
// A 409 Conflict gets the prefix "conflict: " and a 410 the prefix "gone: "
// (is_conflict() and is_gone() in client.h test for them). The body is
// whatever the server sent: a Status object, or null when it was not JSON.

#include <string_view>

#include <nlohmann/json.hpp>

#include "issuer/common/error.h"

namespace keystep::kube {

[[nodiscard]] Error map_status(int http_status, const nlohmann::json& body, std::string_view what);

}  // namespace keystep::kube
