#include "cli/secret_json.h"

#include <openssl/crypto.h>

namespace keystep::cli {

void wipe_string(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void wipe_strings(nlohmann::json& json) {
  if (json.is_string()) {
    wipe_string(json.get_ref<std::string&>());
  } else if (json.is_structured()) {
    for (auto& item : json) wipe_strings(item);
  }
}

SecretJson::SecretJson(std::string_view text) : value_(nlohmann::json::parse(text, nullptr, false)) {}

}  // namespace keystep::cli
