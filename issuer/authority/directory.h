#pragma once
// Directory is the set of Authorities one CA server answers for over HTTP:
// the primary Authority of keystep.yaml and, in cluster mode, one Authority
// per Ready StepClusterIssuer that has provisioners (its own intermediate,
// claims and policy). Requests are routed by what they name: a sign or
// revoke token by its provisioner (JWK: iss + kid; K8sSA: audience), a
// renewal or mTLS revocation by the provisioner recorded in the
// certificate. Whatever no member claims goes to the primary, which gives
// the usual error. Provisioner names are unique across the set (the issuer
// controller enforces it); on a clash the primary wins, then the member
// published first.
//
// The members are replaced as one immutable snapshot (publish), so a lookup
// is one atomic load and a request keeps its Authority alive (Routed) even
// if the issuer is removed meanwhile. Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/authority/authority.h"
#include "issuer/crypto/certificate.h"

namespace keystep::authority {

struct DirectoryMember {
  std::string owner;  // e.g. "StepClusterIssuer/internal", for logs
  std::shared_ptr<const Authority> authority;
};

// Routed is the Authority chosen for one request; it holds the snapshot
// that keeps a member alive while the request uses it.
class Routed {
 public:
  Routed(const Authority& authority, std::shared_ptr<const std::vector<DirectoryMember>> hold)
      : authority_(&authority), hold_(std::move(hold)) {}
  const Authority& operator*() const { return *authority_; }
  const Authority* operator->() const { return authority_; }

 private:
  const Authority* authority_;
  std::shared_ptr<const std::vector<DirectoryMember>> hold_;
};

class Directory {
 public:
  explicit Directory(const Authority& primary);

  // publish replaces the members and then runs the change listener.
  void publish(std::vector<DirectoryMember> members);
  // on_change registers the listener publish runs (e.g. to refresh the TLS
  // server's client CAs); set it before the first publish.
  void on_change(std::function<void()> listener);

  [[nodiscard]] const Authority& primary() const { return primary_; }
  [[nodiscard]] std::shared_ptr<const std::vector<DirectoryMember>> members() const { return members_.load(); }

  // for_token routes a one-time token (sign, revoke); the DecodedToken form
  // lets the caller hand the same parse on to Authority::sign.
  [[nodiscard]] Routed for_token(std::string_view token) const;
  [[nodiscard]] Routed for_token(const DecodedToken& token) const;
  // for_primary is the primary Authority (a request that names no provisioner).
  [[nodiscard]] Routed for_primary() const { return {primary_, members_.load()}; }
  // for_provisioner routes by provisioner name.
  [[nodiscard]] Routed for_provisioner(std::string_view name) const;
  // for_acme finds the Authority that has the ACME provisioner `name`, and
  // its config (valid while the Routed lives); nullopt when none has it.
  [[nodiscard]] std::optional<std::pair<Routed, const acme::AcmeProvisionerConfig*>> for_acme(
      std::string_view name) const;
  // for_certificate routes by the provisioner extension of a certificate
  // (DER): the Authority whose provisioner issued it.
  [[nodiscard]] Routed for_certificate_der(std::string_view der) const;
  // for_renew_token routes a renew token by the leaf in its x5cInsecure header.
  [[nodiscard]] Routed for_renew_token(std::string_view token) const;

  // find_by_kid finds a JWK provisioner (for its encrypted key) in any
  // Authority; null when none has that key id.
  [[nodiscard]] const provisioners::JwkProvisioner* find_by_kid(std::string_view kid,
                                                                std::shared_ptr<const std::vector<DirectoryMember>>* hold) const;
  // provisioners lists every provisioner as /provisioners shows it: the
  // primary's JWK then K8sSA provisioners, then each member's.
  [[nodiscard]] std::vector<nlohmann::json> provisioners() const;
  // roots and intermediates of every Authority, primary first, each
  // certificate once.
  [[nodiscard]] std::vector<crypto::Certificate> roots() const;
  [[nodiscard]] std::vector<crypto::Certificate> intermediates() const;
  // client_ca_pem is every root and intermediate, PEM: the CAs an mTLS
  // client certificate may chain to.
  [[nodiscard]] std::string client_ca_pem() const;

 private:
  // collect lists, primary first and each certificate once, what `part`
  // gives of every Authority's CA.
  [[nodiscard]] std::vector<crypto::Certificate> collect(
      const std::vector<crypto::Certificate>& (signing::CertificateAuthority::*part)() const) const;

  const Authority& primary_;
  std::atomic<std::shared_ptr<const std::vector<DirectoryMember>>> members_;
  std::mutex listener_mu_;
  std::function<void()> listener_;
};

}  // namespace keystep::authority
