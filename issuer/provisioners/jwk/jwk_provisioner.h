#pragma once
// JwkProvisioner authorizes one-time tokens signed by one JWK, exactly as
// `step ca token` and step-issuer mint them (reference §2.2–2.3): it checks
// the signature, issuer, audience, time window (60 s leeway) and subject,
// then the CSR against the token — cnf binding, common name, and per SAN
// type the same set of names. The certificate's names come from the token,
// not from the CSR. Replay (jti) is checked by the caller, after this
// verification succeeds, so unsigned tokens cannot burn someone's jti.
// Immutable; safe to share between threads.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/csr.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/policy/claims.h"
#include "issuer/policy/names.h"
#include "issuer/provisioners/jwk/audiences.h"
#include "issuer/provisioners/jwk/token_claims.h"
#include "issuer/signing/provisioner_extension.h"

namespace keystep::provisioners {

struct JwkProvisionerConfig {
  std::string name;
  nlohmann::json key;             // the public JWK
  std::string encrypted_key;      // JWE of the private JWK, served as-is; may be empty
  std::optional<policy::Claims> claims;  // overrides the CA's claims
};

// TokenGrant is what a verified token allows.
struct TokenGrant {
  std::string subject;        // sub: the certificate's common name
  policy::Names names;        // sans (or [sub]), split by type; common_name = sub
  std::string token_id;       // jti, or the SHA-256 of the token when absent
  common::TimePoint expires_at;  // exp: how long the token id must be remembered
  std::optional<std::string> csr_fingerprint;  // cnf x5rt#S256
  signing::ProvisionerRef provisioner;
};

class JwkProvisioner {
 public:
  [[nodiscard]] static Result<JwkProvisioner> create(JwkProvisionerConfig config,
                                                     const policy::Claims& authority_claims);

  [[nodiscard]] const std::string& name() const { return config_.name; }
  [[nodiscard]] const std::string& kid() const { return key_.kid(); }
  [[nodiscard]] const std::string& encrypted_key() const { return config_.encrypted_key; }
  [[nodiscard]] const policy::Claims& claims() const { return claims_; }
  // to_json is the object /provisioners lists (step's shape).
  [[nodiscard]] nlohmann::json to_json() const;

  // authorize verifies a parsed token for `kind` and returns its grant.
  // Failures are unauthenticated with a reason safe to show the caller.
  [[nodiscard]] Result<TokenGrant> authorize(const jose::Jws& token, const nlohmann::json& claims,
                                             std::string_view raw_token, const Audiences& audiences,
                                             Audience kind, common::TimePoint now) const;

 private:
  JwkProvisioner(JwkProvisionerConfig config, jose::Jwk key, policy::Claims claims)
      : config_(std::move(config)), key_(std::move(key)), claims_(claims) {}
  JwkProvisionerConfig config_;
  jose::Jwk key_;
  policy::Claims claims_;
};

// check_csr_against_grant applies step-ca's JWK sign options to a CSR:
// cnf binding, CN in {sub} ∪ sans, and for each SAN type the CSR carries,
// the same set of names as the token. Failures are permission_denied.
[[nodiscard]] Status check_csr_against_grant(const crypto::Csr& csr, const TokenGrant& grant);

}  // namespace keystep::provisioners
