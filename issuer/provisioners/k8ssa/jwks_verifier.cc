#include "issuer/provisioners/k8ssa/jwks_verifier.h"

#include <algorithm>

#include "issuer/crypto/jose/jws.h"
#include "issuer/provisioners/jwk/audiences.h"
#include "issuer/provisioners/k8ssa/k8ssa_provisioner.h"

namespace keystep::provisioners {
namespace {

Error refused(const std::string& why) { return {Errc::unauthenticated, why}; }

// string_at reads claims[a][b]... as a string, "" when absent.
std::string string_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &j;
  for (const char* key : path) {
    if (!node->is_object()) return "";
    auto it = node->find(key);
    if (it == node->end()) return "";
    node = &*it;
  }
  return node->is_string() ? node->get<std::string>() : "";
}

}  // namespace

Result<std::vector<std::pair<std::string, jose::Jwk>>> parse_service_account_keys(const nlohmann::json& jwks) {
  std::vector<std::pair<std::string, jose::Jwk>> out;
  auto keys = jwks.is_object() ? jwks.find("keys") : jwks.end();
  if (!jwks.is_object() || keys == jwks.end() || !keys->is_array()) {
    return fail(Errc::invalid_argument, "service-account JWKS: no \"keys\" array");
  }
  for (const auto& k : *keys) {
    if (!k.is_object() || k.value("use", "sig") != "sig" || k.contains("d")) continue;
    auto jwk = jose::Jwk::from_json(k);
    if (!jwk) continue;
    out.emplace_back(k.value("kid", ""), std::move(*jwk));
  }
  if (out.empty()) return fail(Errc::invalid_argument, "service-account JWKS: no usable signing key");
  return out;
}

JwksVerifier::JwksVerifier(Fetch fetch, const common::Clock& clock, JwksVerifierOptions options)
    : fetch_(std::move(fetch)), clock_(clock), options_(options) {}

Result<JwksVerifier::KeySet> JwksVerifier::fetch_locked() {
  last_attempt_ = clock_.now();
  auto fetched = fetch_();
  if (!fetched) {
    return fail(Errc::unavailable, "cannot fetch the API server's service-account keys: " + fetched.error().message);
  }
  if (fetched->issuer.empty()) return fail(Errc::unavailable, "the API server publishes no service-account issuer");
  auto keys = parse_service_account_keys(fetched->jwks);
  if (!keys) return fail(Errc::unavailable, keys.error().message);
  cache_ = KeySet{fetched->issuer, std::move(*keys), clock_.now()};
  return *cache_;
}

Result<JwksVerifier::KeySet> JwksVerifier::keys(const std::string& kid) {
  std::lock_guard lock(mu_);
  const auto now = clock_.now();
  if (!cache_ || now - cache_->fetched_at >= options_.refresh) {
    auto fetched = fetch_locked();
    // A stale set still verifies while the API server cannot be reached.
    if (!fetched && !cache_) return fetched;
    if (!fetched) return *cache_;
    return fetched;
  }
  const bool known = std::any_of(cache_->keys.begin(), cache_->keys.end(),
                                 [&](const auto& k) { return kid.empty() || k.first == kid; });
  if (!known && now - last_attempt_ >= options_.min_refetch) {
    if (auto fetched = fetch_locked(); fetched) return fetched;
  }
  return *cache_;
}

Result<ServiceAccountIdentity> JwksVerifier::review(std::string_view token, const std::vector<std::string>& audiences) {
  auto jws = jose::parse_compact(token);
  if (!jws) return tl::unexpected(refused("not a JWT"));
  auto claims = jose::payload_json(*jws);
  if (!claims) return tl::unexpected(refused("the token payload is not a JSON object"));
  if (claims->value("iss", "") == kLegacyServiceAccountIssuer) {
    return tl::unexpected(refused("legacy service-account tokens are not signed by the issuer keys; use a "
                                  "projected token, or tokenVerification: TokenReview"));
  }
  auto set = keys(jws->kid());
  if (!set) return tl::unexpected(set.error());

  bool verified = false;
  for (const auto& [kid, key] : set->keys) {
    if (!jws->kid().empty() && kid != jws->kid()) continue;
    if (jose::verify(*jws, key)) {
      verified = true;
      break;
    }
  }
  if (!verified) return tl::unexpected(refused("token signature does not verify with the API server's keys"));
  if (claims->value("iss", "") != set->issuer) {
    return tl::unexpected(refused("token issuer is not the API server's service-account issuer"));
  }
  ServiceAccountIdentity identity;
  for (const auto& a : audience_claim(*claims)) {
    if (std::find(audiences.begin(), audiences.end(), a) != audiences.end()) identity.audiences.push_back(a);
  }
  if (identity.audiences.empty()) return tl::unexpected(refused("token audiences are invalid"));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) return tl::unexpected(refused("token has no expiry"));
  if (exp->get<double>() + static_cast<double>(options_.leeway.count()) < static_cast<double>(now_s)) {
    return tl::unexpected(refused("token has expired"));
  }
  if (auto nbf = claims->find("nbf"); nbf != claims->end() && nbf->is_number() &&
                                      nbf->get<double>() > static_cast<double>(now_s + options_.leeway.count())) {
    return tl::unexpected(refused("token is not valid yet"));
  }
  const std::string ns = string_at(*claims, {"kubernetes.io", "namespace"});
  const std::string sa = string_at(*claims, {"kubernetes.io", "serviceaccount", "name"});
  identity.username = claims->value("sub", "");
  if (ns.empty() || sa.empty() || identity.username != "system:serviceaccount:" + ns + ":" + sa) {
    return tl::unexpected(refused("token subject and kubernetes.io claims disagree"));
  }
  identity.uid = string_at(*claims, {"kubernetes.io", "serviceaccount", "uid"});
  identity.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  identity.pod_name = string_at(*claims, {"kubernetes.io", "pod", "name"});
  identity.pod_uid = string_at(*claims, {"kubernetes.io", "pod", "uid"});
  return identity;
}

}  // namespace keystep::provisioners
