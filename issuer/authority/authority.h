#pragma once
// Authority is the CA as a service: it turns a sign request (CSR + one-time
// token) into a certificate, applying in order the token checks of its
// provisioner, single use of the token (in the Store), the CSR-versus-token
// checks, the key policy, the lifetime claims and the name policy, then
// signs and records the certificate in the Store's ledger before returning
// it: a certificate that cannot be recorded is never handed out. It also
// answers the read-only questions of the API (roots, provisioners).
// Thread-safe; the signing CA can be swapped at run time (rotate()).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/acme/acme_config.h"
#include "issuer/common/clock.h"
#include "issuer/crypto/csr.h"
#include "issuer/common/error.h"
#include "issuer/metrics/metrics.h"
#include "issuer/policy/claims.h"
#include "issuer/policy/name_policy.h"
#include "issuer/provisioners/jwk/audiences.h"
#include "issuer/provisioners/jwk/jwk_provisioner.h"
#include "issuer/provisioners/k8ssa/k8ssa_config.h"
#include "issuer/provisioners/k8ssa/k8ssa_provisioner.h"
#include "issuer/provisioners/k8ssa/token_reviewer.h"
#include "issuer/signing/certificate_authority.h"
#include "issuer/signing/signer.h"
#include "issuer/storage/store.h"

namespace keystep::authority {

struct AuthorityOptions {
  std::vector<std::string> dns_names;             // the CA's names: token audiences and its TLS SANs
  policy::Claims claims;                          // CA-wide lifetime claims
  policy::NamePolicyConfig policy;                // CA-wide name policy
  std::chrono::seconds backdate{60};              // notBefore backdate of default-start leaves
  bool disable_issued_at_check = false;           // accept tokens issued before this process started
  std::vector<provisioners::JwkProvisionerConfig> provisioners;
  std::vector<provisioners::K8sSaProvisionerConfig> k8ssa;  // K8sSA provisioners: service-account tokens on /sign
  // token_reviewer asks Kubernetes about K8sSA tokens (borrowed; outlives
  // the Authority). Without one, K8sSA tokens are refused as unavailable.
  provisioners::TokenReviewer* token_reviewer = nullptr;
  // jwks_verifier checks the tokens of K8sSA provisioners with
  // tokenVerification: JWKS (borrowed; null: refused as unavailable).
  provisioners::TokenReviewer* jwks_verifier = nullptr;
  std::vector<acme::AcmeProvisionerConfig> acme;  // ACME provisioners: /acme/{name}/directory
  bool allow_ca = false;                          // policy.allowCA: sign_certificate_request may issue CAs
  signing::DistributionUrls distribution;         // CRL DP and AIA URLs put in every leaf
};

struct SignRequest {
  std::string csr_pem;
  std::string ott;
  std::string not_before;  // "" | RFC 3339 | Go duration
  std::string not_after;
  std::string request_id;  // recorded in the ledger (X-Request-Id)
};

// DecodedToken is a one-time token split and decoded once (not verified):
// the Directory routes by it and the Authority then verifies the same
// parse, so the signing path decodes a token once.
struct DecodedToken {
  Result<jose::Jws> jws;
  Result<nlohmann::json> claims;
  [[nodiscard]] static DecodedToken decode(std::string_view ott);
};

// RevokeRequest is a POST /revoke: authorized by a one-time token whose
// subject is the serial, or by the certificate itself over mTLS.
struct RevokeRequest {
  std::string serial;  // decimal or 0x-prefixed hex
  int reason_code = 0;
  std::string reason;
  std::string ott;
  bool passive = true;
  std::vector<std::string> peer_chain_der;  // the verified mTLS client chain, leaf first
};

// RenewRequest is a POST /renew: the certificate to renew comes from the
// verified mTLS client chain, or from the x5cInsecure header of a Bearer
// token signed by the certificate's key.
struct RenewRequest {
  std::vector<std::string> peer_chain_der;
  std::string bearer_token;
  std::string request_id;
};

// CsrSignRequest is a cert-manager CertificateRequest that was approved: the
// Kubernetes RBAC and the approver authorised it, so there is no token.
struct CsrSignRequest {
  std::string csr_pem;                            // spec.request, PEM
  std::optional<std::chrono::seconds> duration;   // spec.duration; unset: claims.defaultDuration
  bool is_ca = false;                             // spec.isCA
  std::vector<std::string> usages;                // spec.usages, cert-manager strings; empty: its default
  std::string requester;                          // spec.username, recorded in the ledger
  std::string request_id;                         // the CertificateRequest UID: one certificate per UID
  std::string provisioner;                        // recorded in the ledger, e.g. "StepClusterIssuer/internal"
};

// AcmeSignRequest is a finalized ACME order: the account proved control of
// every name, and the ACME layer checked that the CSR names exactly the
// order's identifiers.
struct AcmeSignRequest {
  const crypto::Csr& csr;
  std::string provisioner;          // the ACME provisioner's name
  std::string subject;              // common name: the CSR's if it is an identifier, else "" (or forceCN's)
  std::vector<std::string> dns;     // the order's identifiers
  std::vector<std::string> ips;
  std::optional<policy::TimeOrDuration> not_before;  // the order's notBefore / notAfter
  std::optional<policy::TimeOrDuration> not_after;
  std::string requester;            // the account URL, recorded in the ledger
  std::string order_id;             // recorded as the ledger's request id
};

class Authority {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Authority>> create(AuthorityOptions options,
                                                                 std::shared_ptr<const signing::CertificateAuthority> ca,
                                                                 const common::Clock& clock, storage::Store& store,
                                                                 metrics::Metrics* metrics = nullptr);

  [[nodiscard]] Result<signing::IssuedCertificate> sign(const SignRequest& request) const;
  // sign of a request whose ott is already decoded (token = decode(ott)).
  [[nodiscard]] Result<signing::IssuedCertificate> sign(const SignRequest& request, const DecodedToken& token) const;

  // sign_certificate_request issues the certificate of an approved
  // CertificateRequest. Its names come from the CSR (common name and SANs),
  // checked against the name policy; the key policy applies; a CA
  // (is_ca, or a CSR asking for CA:TRUE) is refused unless options.allow_ca;
  // usages follow policy::parse_key_usages. The lifetime is the requested
  // duration clamped into [claims.minDuration, claims.maxDuration] (the
  // contract lets an issuer clamp; CM compares the CR, not the certificate,
  // so clamping causes no re-issue loop), else claims.defaultDuration;
  // notBefore is backdated. No provisioner extension is added: the ledger
  // records `provisioner`, `requester`, source "certificaterequest" and
  // request_id = the UID.
  // Exactly one certificate per UID, across replicas: if the ledger already
  // holds one for the UID it is returned (same serial) and nothing is signed;
  // if another replica records one first, the winner's is returned. A
  // returned earlier certificate carries the current chain when the current
  // intermediate issued it, else the leaf alone.
  // Errors: invalid_argument for a missing UID, a bad CSR (or one without
  // names), bad usages or a non-positive duration; permission_denied for the
  // key, name or CA policy; failed_precondition when the UID already has a
  // certificate for another key; unavailable when the database cannot be
  // reached or the intermediate has expired (both worth retrying once fixed).
  [[nodiscard]] Result<signing::IssuedCertificate> sign_certificate_request(const CsrSignRequest& request) const;

  // sign_acme issues the certificate of a finalized ACME order: key policy,
  // the issuer's claims (lifetime from the order's notBefore/notAfter, else
  // defaultDuration), name policy; a CSR asking for a CA is refused. The
  // leaf carries the provisioner extension (type ACME); the ledger records
  // source "acme". Errors: invalid_argument, permission_denied (policy),
  // unavailable (database, expired intermediate).
  [[nodiscard]] Result<signing::IssuedCertificate> sign_acme(const AcmeSignRequest& request) const;
  // check_names applies the name policy alone (ACME refuses an order for
  // names it could never sign, before any challenge): permission_denied.
  [[nodiscard]] Status check_names(const policy::Names& names) const { return name_policy_.check(names); }
  [[nodiscard]] const std::vector<acme::AcmeProvisionerConfig>& acme_provisioners() const { return options_.acme; }
  [[nodiscard]] const acme::AcmeProvisionerConfig* find_acme(std::string_view name) const;

  // revoke records a revocation; returns the normalized decimal serial.
  // already revoked: invalid_argument (as step-ca); a serial not in the
  // ledger: not_found; passive=false: unimplemented.
  [[nodiscard]] Result<std::string> revoke(const RevokeRequest& request) const;

  // record_revocation revokes a serial of the ledger whose revocation the
  // caller authorized (an ACME account or certificate key): not_found when
  // the ledger does not hold it, already_exists when it is revoked.
  [[nodiscard]] Status record_revocation(const std::string& serial, int reason_code, const std::string& reason,
                                         const std::string& actor, const std::string& provisioner_name) const;

  // renew issues a new certificate for the same names, key and lifetime.
  [[nodiscard]] Result<signing::IssuedCertificate> renew(const RenewRequest& request) const;

  // issue_server_certificate makes the CA server's own TLS certificate for
  // its DNS names (no provisioner extension).
  [[nodiscard]] Result<signing::IssuedCertificate> issue_server_certificate(EVP_PKEY* key,
                                                                            std::chrono::seconds lifetime) const;

  [[nodiscard]] std::shared_ptr<const signing::CertificateAuthority> ca() const { return ca_.load(); }
  void rotate(std::shared_ptr<const signing::CertificateAuthority> ca) { ca_.store(std::move(ca)); }

  [[nodiscard]] const std::vector<provisioners::JwkProvisioner>& provisioners() const { return provisioners_; }
  [[nodiscard]] const std::vector<provisioners::K8sSaProvisioner>& k8ssa_provisioners() const { return k8ssa_; }
  [[nodiscard]] const provisioners::JwkProvisioner* find_by_kid(std::string_view kid) const;
  [[nodiscard]] const provisioners::JwkProvisioner* find_by_name(std::string_view name) const;
  // owns_token tells, from a token's (unverified) header and claims, whether
  // one of this Authority's provisioners would judge it: a JWK provisioner
  // by iss + kid and an audience of this CA, a K8sSA provisioner by the
  // service-account token's audience. Routing among Authorities only; it
  // proves nothing.
  [[nodiscard]] bool owns_token(const jose::Jws& jws, const nlohmann::json& claims) const;
  // has_provisioner: a JWK or K8sSA provisioner of that name is configured.
  [[nodiscard]] bool has_provisioner(std::string_view name) const;
  [[nodiscard]] storage::Store& store() const { return store_; }
  [[nodiscard]] const common::Clock& clock() const { return clock_; }
  [[nodiscard]] const std::vector<std::string>& dns_names() const { return options_.dns_names; }
  [[nodiscard]] common::TimePoint started_at() const { return started_at_; }
  // health reports whether the CA can issue: its database answers.
  [[nodiscard]] Status health() const { return store_.ping(); }

 private:
  struct Denial {
    Error error;
    metrics::DenialReason reason;
  };
  Authority(AuthorityOptions options, std::shared_ptr<const signing::CertificateAuthority> ca,
            const common::Clock& clock, storage::Store& store, metrics::Metrics* metrics);
  // record writes an issued certificate to the ledger; already_exists when
  // the serial or (source "certificaterequest") the request id is taken.
  [[nodiscard]] Status record(const signing::IssuedCertificate& issued, const std::string& provisioner,
                              const std::string& requester, const std::string& source,
                              const std::string& request_id) const;
  // renewable resolves the certificate a renew request names and checks it
  // may be renewed now; sets *provisioner.
  [[nodiscard]] Result<crypto::Certificate> renewable(const RenewRequest& request,
                                                      const provisioners::JwkProvisioner** provisioner) const;
  [[nodiscard]] Result<crypto::Certificate> verify_renew_token(std::string_view token) const;
  [[nodiscard]] tl::expected<signing::IssuedCertificate, Denial> sign_csr_request(const CsrSignRequest& request,
                                                                                  bool* signed_now) const;
  // issued_for_request returns the ledger's certificate for a
  // CertificateRequest UID, if any, as an IssuedCertificate.
  [[nodiscard]] Result<std::optional<signing::IssuedCertificate>> issued_for_request(const std::string& request_id) const;
  [[nodiscard]] tl::expected<signing::IssuedCertificate, Denial> sign_request(const SignRequest& request,
                                                                              const DecodedToken& token,
                                                                              std::string* provisioner_name) const;
  // authorize verifies a token and records its id as used; a replay is
  // already_exists ("token already used").
  // LeafGrant is what a provisioner allowed for one CSR; issue_leaf applies
  // the CA-wide checks (key, CA flag, claims, name policy), signs and records.
  struct LeafGrant {
    const crypto::Csr& csr;
    const policy::Claims& claims;
    const policy::Names& names;
    const std::string& subject;
    const signing::ProvisionerRef& provisioner;
    const std::optional<policy::TimeOrDuration>& not_before;
    const std::optional<policy::TimeOrDuration>& not_after;
    const std::string& provisioner_name;
    const std::string& requester;  // ledger and logs: token subject, system:serviceaccount:ns:sa
    const std::string& request_id;
    const char* source = "api";  // the ledger's source
  };
  [[nodiscard]] tl::expected<signing::IssuedCertificate, Denial> issue_leaf(const LeafGrant& grant) const;
  // sign_service_account signs for a K8sSA token (claims already decoded).
  [[nodiscard]] tl::expected<signing::IssuedCertificate, Denial> sign_service_account(
      const SignRequest& request, const crypto::Csr& csr, const nlohmann::json& claims,
      const std::optional<policy::TimeOrDuration>& not_before, const std::optional<policy::TimeOrDuration>& not_after,
      std::string* provisioner_name) const;
  [[nodiscard]] Result<provisioners::TokenGrant> authorize(std::string_view ott, provisioners::Audience kind,
                                                           const provisioners::JwkProvisioner** provisioner) const;
  // k8ssa_for reads a service-account token's audiences and returns the
  // K8sSA provisioner bound to one of them, or null.
  [[nodiscard]] const provisioners::K8sSaProvisioner* k8ssa_for(const nlohmann::json& claims) const;
  // authorize of a token already decoded (sign decodes once to route it).
  [[nodiscard]] Result<provisioners::TokenGrant> authorize(const jose::Jws& jws, const nlohmann::json& claims,
                                                           std::string_view ott, provisioners::Audience kind,
                                                           const provisioners::JwkProvisioner** provisioner) const;

  AuthorityOptions options_;
  std::atomic<std::shared_ptr<const signing::CertificateAuthority>> ca_;
  const common::Clock& clock_;
  storage::Store& store_;
  metrics::Metrics* metrics_;  // optional
  provisioners::Audiences audiences_;
  policy::NamePolicy name_policy_;
  std::vector<signing::DerExtension> leaf_extensions_;  // encoded once from options_.distribution
  std::vector<provisioners::JwkProvisioner> provisioners_;
  std::vector<provisioners::K8sSaProvisioner> k8ssa_;
  std::unordered_map<std::string, std::size_t> by_token_id_;  // name + ":" + kid
  std::unordered_map<std::string, std::size_t> by_kid_;
  std::unordered_map<std::string, std::size_t> by_name_;
  common::TimePoint started_at_;
};

}  // namespace keystep::authority
