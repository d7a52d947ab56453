#include "issuer/provisioners/jwk/audiences.h"

namespace keystep::provisioners {
namespace {
constexpr char kLegacyAudience[] = "step-certificate-authority";
}  // namespace

std::string strip_url_port(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::size_t host_start = scheme_end + 3;
  std::size_t path_start = url.find('/', host_start);
  if (path_start == std::string_view::npos) path_start = url.size();
  std::string_view authority = url.substr(host_start, path_start - host_start);
  std::size_t colon = std::string_view::npos;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close != std::string_view::npos && close + 1 < authority.size() && authority[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
  }
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(authority.substr(0, colon)) +
         std::string(url.substr(path_start));
}

Audiences::Audiences(const std::vector<std::string>& dns_names) {
  sign_.insert(kLegacyAudience);
  revoke_.insert(kLegacyAudience);
  for (const auto& name : dns_names) {
    std::string host = name.find(':') != std::string::npos ? "[" + name + "]" : name;
    std::string base = "https://" + host;
    for (const char* p : {"/1.0/sign", "/sign"}) sign_.insert(base + p);
    for (const char* p : {"/1.0/revoke", "/revoke"}) revoke_.insert(base + p);
    for (const char* p : {"/1.0/renew", "/renew"}) renew_.insert(base + p);
  }
}

bool Audiences::matches_one(std::string_view aud, Audience kind) const {
  const auto& set = kind == Audience::sign ? sign_ : kind == Audience::revoke ? revoke_ : renew_;
  std::string key(aud);
  if (set.count(key) != 0) return true;
  return set.count(strip_url_port(aud)) != 0;
}

bool Audiences::matches(const nlohmann::json& aud, Audience kind) const {
  if (aud.is_string()) return matches_one(aud.get_ref<const std::string&>(), kind);
  if (!aud.is_array()) return false;
  for (const auto& a : aud) {
    if (a.is_string() && matches_one(a.get_ref<const std::string&>(), kind)) return true;
  }
  return false;
}

std::vector<std::string> audience_claim(const nlohmann::json& claims) {
  std::vector<std::string> out;
  auto aud = claims.find("aud");
  if (aud == claims.end()) return out;
  if (aud->is_string()) out.push_back(aud->get<std::string>());
  if (aud->is_array()) {
    for (const auto& a : *aud) {
      if (a.is_string()) out.push_back(a.get<std::string>());
    }
  }
  return out;
}

bool Audiences::any(const nlohmann::json& aud) const {
  return matches(aud, Audience::sign) || matches(aud, Audience::revoke) || matches(aud, Audience::renew);
}

}  // namespace keystep::provisioners
