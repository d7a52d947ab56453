#include "operator/kube/watch_event.h"

#include <string>

#include "operator/kube/api_errors.h"

namespace keystep::kube {

std::string resource_version_of(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  if (rv == metadata->end() || !rv->is_string()) return "";
  return rv->get<std::string>();
}

Result<WatchEvent> decode_watch_event(std::string_view line, std::string_view what) {
  nlohmann::json event;
  try {
    event = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::internal, std::string(what) + ": malformed watch event: " + e.what());
  }
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
      !event.contains("object")) {
    return fail(Errc::internal, std::string(what) + ": watch event without type or object");
  }
  const std::string type = event["type"].get<std::string>();
  nlohmann::json& object = event["object"];
  if (type == "ERROR") {
    int code = 500;
    if (object.is_object() && object.contains("code") && object["code"].is_number_integer()) {
      code = object["code"].get<int>();
    }
    return tl::unexpected(map_status(code, object, what));
  }
  WatchEvent out{WatchEvent::Type::added, nlohmann::json()};
  if (type == "ADDED") {
    out.type = WatchEvent::Type::added;
  } else if (type == "MODIFIED") {
    out.type = WatchEvent::Type::modified;
  } else if (type == "DELETED") {
    out.type = WatchEvent::Type::deleted;
  } else if (type == "BOOKMARK") {
    out.type = WatchEvent::Type::bookmark;
  } else {
    return fail(Errc::internal, std::string(what) + ": unknown watch event type " + type);
  }
  out.object = std::move(object);
  return out;
}

}  // namespace keystep::kube
