#include "issuer/config/yaml_fields.h"

#include <set>

namespace keystep::config::fields {

tl::unexpected<Error> bad(const std::string& path, const std::string& message) {
  return fail(Errc::invalid_argument, path + ": " + message);
}

std::string child(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

Status only_keys(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) return bad(path, "must be a mapping");
  std::set<std::string> known(allowed.begin(), allowed.end());
  std::set<std::string> seen;
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    if (known.count(key) == 0) return bad(child(path, key.c_str()), "unknown field");
    // YAML keeps the first of two equal keys; a config must not say two things.
    if (!seen.insert(key).second) return bad(child(path, key.c_str()), "given twice");
  }
  return ok();
}

Result<std::string> scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return bad(path, "must be a string");
  return node.as<std::string>();
}

Result<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& path) {
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) return bad(path, "must be a list of strings");
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) return bad(index(path, i), "must be a string");
    out.push_back(node[i].as<std::string>());
  }
  return out;
}

Result<bool> boolean(const YAML::Node& node, const std::string& path) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) return bad(path, "must be true or false");
  return value;
}

Result<common::Duration> duration(const YAML::Node& node, const std::string& path) {
  auto text = scalar(node, path);
  if (!text) return tl::unexpected(text.error());
  auto d = common::parse_duration(*text);
  if (!d) return bad(path, d.error().message);
  return *d;
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : node) j[kv.first.as<std::string>()] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& v : node) j.push_back(to_json(v));
      return j;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

YAML::Node to_yaml(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      YAML::Node node(YAML::NodeType::Map);
      for (const auto& [key, item] : value.items()) node[key] = to_yaml(item);
      return node;
    }
    case nlohmann::json::value_t::array: {
      YAML::Node node(YAML::NodeType::Sequence);
      for (const auto& item : value) node.push_back(to_yaml(item));
      return node;
    }
    case nlohmann::json::value_t::string:
      return YAML::Node(value.get<std::string>());
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return YAML::Node(YAML::NodeType::Null);
    default:  // boolean, numbers: their JSON text is their YAML text
      return YAML::Node(value.dump());
  }
}

}  // namespace keystep::config::fields
