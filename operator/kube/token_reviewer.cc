#include "operator/kube/token_reviewer.h"

#include <openssl/crypto.h>

namespace keystep::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTokenBytes = 64 * 1024;
constexpr const char* kPodNameKey = "authentication.kubernetes.io/pod-name";
constexpr const char* kPodUidKey = "authentication.kubernetes.io/pod-uid";

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> strings_at(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Extra values are lists of strings; the pod keys hold one.
std::string first_extra(const json& user, const char* key) {
  auto extra = user.find("extra");
  if (extra == user.end() || !extra->is_object()) return "";
  auto values = strings_at(*extra, key);
  return values.empty() ? "" : values.front();
}

}  // namespace

Result<provisioners::ServiceAccountIdentity> identity_from_review(const json& review) {
  if (!review.is_object() || !review.contains("status") || !review["status"].is_object()) {
    return fail(Errc::internal, "token review: response has no status");
  }
  const json& status = review["status"];
  auto authenticated = status.find("authenticated");
  if (authenticated == status.end() || !authenticated->is_boolean() || !authenticated->get<bool>()) {
    std::string why = string_at(status, "error");
    return fail(Errc::unauthenticated, why.empty() ? "token not authenticated" : why);
  }
  auto user = status.find("user");
  if (user == status.end() || !user->is_object()) {
    return fail(Errc::internal, "token review: authenticated without status.user");
  }
  provisioners::ServiceAccountIdentity identity;
  identity.username = string_at(*user, "username");
  identity.uid = string_at(*user, "uid");
  identity.groups = strings_at(*user, "groups");
  identity.audiences = strings_at(status, "audiences");
  identity.pod_name = first_extra(*user, kPodNameKey);
  identity.pod_uid = first_extra(*user, kPodUidKey);
  return identity;
}

Result<provisioners::ServiceAccountIdentity> KubeTokenReviewer::review(std::string_view token,
                                                                       const std::vector<std::string>& audiences) {
  if (token.empty()) return fail(Errc::unauthenticated, "empty token");
  if (token.size() > kMaxTokenBytes) return fail(Errc::unauthenticated, "token larger than 64 KiB");
  json request{{"apiVersion", resources::kTokenReviews.api_version()},
               {"kind", resources::kTokenReviews.kind},
               {"spec", {{"token", std::string(token)}, {"audiences", audiences}}}};
  auto response = client_.create(resources::kTokenReviews, "", request);
  // Wipe our copy of the token; the client's serialised body is gone already.
  std::string& copy = request["spec"]["token"].get_ref<std::string&>();
  OPENSSL_cleanse(copy.data(), copy.size());
  if (!response) return tl::unexpected(with_context(response.error(), "token review"));
  return identity_from_review(*response);
}

Result<provisioners::ServiceAccountKeys> fetch_service_account_keys(Client& client) {
  auto discovery = client.raw("GET", "/.well-known/openid-configuration");
  if (!discovery) return tl::unexpected(with_context(discovery.error(), "/.well-known/openid-configuration"));
  provisioners::ServiceAccountKeys keys;
  keys.issuer = string_at(*discovery, "issuer");
  if (keys.issuer.empty()) return fail(Errc::unavailable, "/.well-known/openid-configuration: no issuer");
  auto jwks = client.raw("GET", "/openid/v1/jwks");
  if (!jwks) return tl::unexpected(with_context(jwks.error(), "/openid/v1/jwks"));
  keys.jwks = std::move(*jwks);
  return keys;
}

}  // namespace keystep::kube
