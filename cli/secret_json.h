#pragma once
// SecretJson holds parsed JSON that carries key material (a private JWK's
// "d", "p", ...) and wipes every string in it with OPENSSL_cleanse when it
// goes away. nlohmann::json copies what it parses, so wiping the text alone
// would leave the key behind in freed memory. Move-only by being
// non-copyable; not thread-safe.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace keystep::cli {

// wipe_string cleanses and empties s; wipe_strings every string inside json.
void wipe_string(std::string& s);
void wipe_strings(nlohmann::json& json);

class SecretJson {
 public:
  // A text that is not JSON gives a discarded value (is_discarded()).
  explicit SecretJson(std::string_view text);
  explicit SecretJson(nlohmann::json value) : value_(std::move(value)) {}
  SecretJson(const SecretJson&) = delete;
  SecretJson& operator=(const SecretJson&) = delete;
  ~SecretJson() { wipe_strings(value_); }

  [[nodiscard]] const nlohmann::json& value() const { return value_; }

 private:
  nlohmann::json value_;
};

}  // namespace keystep::cli
