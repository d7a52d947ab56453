#pragma once
// Audiences are the URLs a token may be addressed to, derived from the CA's
// DNS names as step-ca does: https://<name>/1.0/sign and https://<name>/sign
// (and /revoke, /renew). Matching ignores the port, so a token minted for
// https://ca.internal:9000/1.0/sign is accepted by a CA named ca.internal.
// Immutable; safe to share between threads.

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace keystep::provisioners {

enum class Audience { sign, revoke, renew };

class Audiences {
 public:
  explicit Audiences(const std::vector<std::string>& dns_names);

  // matches reports whether a token "aud" claim (string or array of strings)
  // names one of this CA's endpoints for `kind`.
  [[nodiscard]] bool matches(const nlohmann::json& aud, Audience kind) const;
  // any reports whether `aud` names any endpoint of this CA.
  [[nodiscard]] bool any(const nlohmann::json& aud) const;

 private:
  [[nodiscard]] bool matches_one(std::string_view aud, Audience kind) const;
  std::unordered_set<std::string> sign_, revoke_, renew_;
};

// audience_claim returns the strings of a token's "aud" claim (a string or
// an array of strings; other members are skipped), [] when it is absent.
[[nodiscard]] std::vector<std::string> audience_claim(const nlohmann::json& claims);

// strip_url_port removes the port from an absolute URL's authority:
// "https://h:9000/x" -> "https://h/x", "https://[::1]:9000/x" -> "https://[::1]/x".
[[nodiscard]] std::string strip_url_port(std::string_view url);

}  // namespace keystep::provisioners
