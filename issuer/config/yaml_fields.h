#pragma once
// yaml_fields reads typed values out of YAML configuration, naming the field
// path in every error ("claims.maxDuration: ..."): the shared vocabulary of
// the standalone config (config.cc) and the issuer spec (issuer_spec.cc).
// Errors are invalid_argument. Paths join with child(): child("", "a") is
// "a", child("spec", "a") is "spec.a"; index() makes "provisioners[1]".

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/common/duration.h"
#include "issuer/common/error.h"

namespace keystep::config::fields {

[[nodiscard]] tl::unexpected<Error> bad(const std::string& path, const std::string& message);
[[nodiscard]] std::string child(const std::string& path, const char* key);
[[nodiscard]] std::string index(const std::string& path, std::size_t i);

// only_keys fails unless node is a mapping whose keys are all in `allowed`,
// each given once: "<path>.<key>: unknown field" / "given twice".
[[nodiscard]] Status only_keys(const YAML::Node& node, const std::string& path,
                               std::initializer_list<const char*> allowed);

[[nodiscard]] Result<std::string> scalar(const YAML::Node& node, const std::string& path);
// string_list: an absent or null node is an empty list.
[[nodiscard]] Result<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& path);
[[nodiscard]] Result<bool> boolean(const YAML::Node& node, const std::string& path);
// duration: a Go duration string ("5m", "2160h").
[[nodiscard]] Result<common::Duration> duration(const YAML::Node& node, const std::string& path);

// to_json converts a YAML subtree (a JWK) to JSON, keeping scalars as strings.
[[nodiscard]] nlohmann::json to_json(const YAML::Node& node);
// to_yaml converts JSON (a Kubernetes object as the API server returns it)
// to a YAML tree: null stays null, every other scalar becomes its text.
[[nodiscard]] YAML::Node to_yaml(const nlohmann::json& value);

}  // namespace keystep::config::fields
