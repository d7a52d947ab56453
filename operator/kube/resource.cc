#include "operator/kube/resource.h"

namespace keystep::kube {

std::string ResourceType::collection_path(std::string_view ns) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += ns;
  }
  path += "/";
  path += plural;
  return path;
}

std::string ResourceType::object_path(std::string_view ns, std::string_view name,
                                      std::string_view subresource) const {
  std::string path = collection_path(ns);
  path += "/";
  path += name;
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  return path;
}

ObjectKey ObjectKey::parse(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return ObjectKey{"", std::string(key)};
  return ObjectKey{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace keystep::kube
