#include "operator/controllers/issuer_registry.h"

#include <algorithm>

namespace keystep::controllers {

std::optional<LoadedIssuer> IssuerRegistry::find(const IssuerRef& ref) const {
  std::lock_guard lock(mu_);
  auto it = issuers_.find(ref);
  if (it == issuers_.end()) return std::nullopt;
  return it->second;
}

void IssuerRegistry::put(LoadedIssuer issuer) {
  std::lock_guard lock(mu_);
  auto ref = issuer.ref;
  issuers_[ref] = std::move(issuer);
  publish_locked();
}

void IssuerRegistry::remove(const IssuerRef& ref) {
  std::lock_guard lock(mu_);
  if (issuers_.erase(ref) != 0) publish_locked();
}

void IssuerRegistry::publish_locked() {
  if (directory_ == nullptr) return;
  std::vector<authority::DirectoryMember> members;
  for (const auto& [ref, issuer] : issuers_) {
    if (!ref.cluster_scoped || !issuer.ready || !issuer.authority) continue;
    if (issuer.authority->provisioners().empty() && issuer.authority->k8ssa_provisioners().empty() &&
        issuer.authority->acme_provisioners().empty()) {
      continue;
    }
    members.push_back({ref.str(), issuer.authority});
  }
  // Most puts (a status refresh, a StepIssuer) change nothing served.
  auto same = [](const authority::DirectoryMember& a, const authority::DirectoryMember& b) {
    return a.owner == b.owner && a.authority == b.authority;
  };
  const auto current = directory_->members();
  if (std::equal(members.begin(), members.end(), current->begin(), current->end(), same)) return;
  directory_->publish(std::move(members));
}

std::vector<IssuerRef> IssuerRegistry::referencing(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mu_);
  std::vector<IssuerRef> out;
  for (const auto& [ref, issuer] : issuers_) {
    if (issuer.secret.ns == ns && issuer.secret.name == name) out.push_back(ref);
  }
  return out;
}

std::vector<LoadedIssuer> IssuerRegistry::all() const {
  std::lock_guard lock(mu_);
  std::vector<LoadedIssuer> out;
  out.reserve(issuers_.size());
  for (const auto& [ref, issuer] : issuers_) out.push_back(issuer);
  return out;
}

}  // namespace keystep::controllers
