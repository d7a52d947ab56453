#pragma once
// Readers of an object's metadata shared by the controllers: absent or
// mistyped fields read as "" and 0.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace keystep::controllers {

[[nodiscard]] inline std::string meta_string(const nlohmann::json& object, const char* key) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

[[nodiscard]] inline std::int64_t generation_of(const nlohmann::json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return 0;
  auto g = meta->find("generation");
  return g != meta->end() && g->is_number_integer() ? g->get<std::int64_t>() : 0;
}

}  // namespace keystep::controllers
