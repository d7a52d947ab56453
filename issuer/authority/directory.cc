#include "issuer/authority/directory.h"

#include <set>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/signing/provisioner_extension.h"

namespace keystep::authority {

Directory::Directory(const Authority& primary)
    : primary_(primary), members_(std::make_shared<const std::vector<DirectoryMember>>()) {}

void Directory::publish(std::vector<DirectoryMember> members) {
  members_.store(std::make_shared<const std::vector<DirectoryMember>>(std::move(members)));
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_();
}

void Directory::on_change(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

Routed Directory::for_token(std::string_view token) const {
  if (members_.load()->empty()) return for_primary();
  return for_token(DecodedToken::decode(token));
}

Routed Directory::for_token(const DecodedToken& token) const {
  auto members = members_.load();
  if (members->empty() || !token.claims || primary_.owns_token(*token.jws, *token.claims)) return {primary_, members};
  for (const auto& m : *members) {
    if (m.authority->owns_token(*token.jws, *token.claims)) return {*m.authority, members};
  }
  return {primary_, members};
}

Routed Directory::for_provisioner(std::string_view name) const {
  auto members = members_.load();
  if (primary_.has_provisioner(name)) return {primary_, members};
  for (const auto& m : *members) {
    if (m.authority->has_provisioner(name)) return {*m.authority, members};
  }
  return {primary_, members};
}

Routed Directory::for_certificate_der(std::string_view der) const {
  if (members_.load()->empty()) return for_primary();
  auto cert = crypto::Certificate::from_der(reinterpret_cast<const unsigned char*>(der.data()), der.size());
  if (!cert) return for_primary();
  auto ext = signing::decode_provisioner_extension(cert->get());
  return ext ? for_provisioner(ext->name) : for_primary();
}

Routed Directory::for_renew_token(std::string_view token) const {
  if (members_.load()->empty()) return for_primary();
  auto jws = jose::parse_compact(token);
  if (!jws) return for_primary();
  auto x5c = jws->header.find("x5cInsecure");
  if (x5c == jws->header.end() || !x5c->is_array() || x5c->empty() || !x5c->front().is_string()) return for_primary();
  auto der = common::base64_decode(x5c->front().get_ref<const std::string&>());
  if (!der) return for_primary();
  return for_certificate_der(std::string_view(reinterpret_cast<const char*>(der->data()), der->size()));
}

const provisioners::JwkProvisioner* Directory::find_by_kid(
    std::string_view kid, std::shared_ptr<const std::vector<DirectoryMember>>* hold) const {
  *hold = members_.load();
  if (const auto* p = primary_.find_by_kid(kid)) return p;
  for (const auto& m : **hold) {
    if (const auto* p = m.authority->find_by_kid(kid)) return p;
  }
  return nullptr;
}

std::optional<std::pair<Routed, const acme::AcmeProvisionerConfig*>> Directory::for_acme(std::string_view name) const {
  auto members = members_.load();
  if (const auto* p = primary_.find_acme(name)) return std::pair{Routed{primary_, members}, p};
  for (const auto& m : *members) {
    if (const auto* p = m.authority->find_acme(name)) return std::pair{Routed{*m.authority, members}, p};
  }
  return std::nullopt;
}

namespace {

// acme_json is an ACME provisioner as step-ca's /provisioners lists it.
nlohmann::json acme_json(const acme::AcmeProvisionerConfig& p) {
  nlohmann::json out = {{"type", "ACME"}, {"name", p.name}, {"challenges", p.challenges}};
  if (p.require_eab) out["requireEAB"] = true;
  if (p.force_cn) out["forceCN"] = true;
  if (!p.terms_of_service.empty()) out["termsOfService"] = p.terms_of_service;
  return out;
}

}  // namespace

std::vector<nlohmann::json> Directory::provisioners() const {
  auto members = members_.load();
  std::vector<nlohmann::json> out;
  auto add = [&out](const Authority& a) {
    for (const auto& p : a.provisioners()) out.push_back(p.to_json());
    for (const auto& p : a.k8ssa_provisioners()) out.push_back(p.to_json());
    for (const auto& p : a.acme_provisioners()) out.push_back(acme_json(p));
  };
  add(primary_);
  for (const auto& m : *members) add(*m.authority);
  return out;
}

std::vector<crypto::Certificate> Directory::collect(
    const std::vector<crypto::Certificate>& (signing::CertificateAuthority::*part)() const) const {
  auto members = members_.load();
  std::set<std::string> seen;
  std::vector<crypto::Certificate> out;
  auto add = [&](const Authority& a) {
    for (const auto& c : ((*a.ca()).*part)()) {
      if (seen.insert(c.sha256_hex()).second) out.push_back(c);
    }
  };
  add(primary_);
  for (const auto& m : *members) add(*m.authority);
  return out;
}

std::vector<crypto::Certificate> Directory::roots() const { return collect(&signing::CertificateAuthority::roots); }

std::vector<crypto::Certificate> Directory::intermediates() const {
  return collect(&signing::CertificateAuthority::chain);
}

std::string Directory::client_ca_pem() const { return crypto::chain_to_pem(roots()) + crypto::chain_to_pem(intermediates()); }

}  // namespace keystep::authority
