#include "issuer/provisioners/jwk/jwk_provisioner.h"

#include <openssl/sha.h>

#include <algorithm>
#include <set>

#include "issuer/common/base64.h"
#include "issuer/common/duration.h"
#include "issuer/crypto/certificate.h"

namespace keystep::provisioners {
namespace {

tl::unexpected<Error> unauthenticated(std::string message) {
  return fail(Errc::unauthenticated, std::move(message));
}

std::string join(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? " " : "") + values[i];
  return out + "]";
}

std::set<std::string> lower_set(const std::vector<std::string>& v, bool lower) {
  std::set<std::string> out;
  for (auto s : v) {
    if (lower) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    out.insert(s);
  }
  return out;
}

Status same_names(const char* what, const std::vector<std::string>& csr, const std::vector<std::string>& token,
                  bool case_insensitive) {
  if (csr.empty()) return ok();  // types absent from the CSR are not checked
  if (lower_set(csr, case_insensitive) != lower_set(token, case_insensitive)) {
    return fail(Errc::permission_denied, std::string("certificate request does not contain the valid ") + what +
                                             " - got " + join(csr) + ", want " + join(token));
  }
  return ok();
}

}  // namespace

Result<JwkProvisioner> JwkProvisioner::create(JwkProvisionerConfig config, const policy::Claims& authority_claims) {
  const std::string path = "provisioners[" + config.name + "]";
  if (config.name.empty()) return fail(Errc::invalid_argument, "provisioners: a provisioner needs a name");
  auto key = jose::Jwk::from_json(config.key);
  if (!key) return tl::unexpected(with_context(key.error(), path + ".key"));
  if (key->has_private()) {
    return fail(Errc::invalid_argument, path + ".key: must be a public key; keep the private key in encryptedKey");
  }
  if (key->kid().empty()) return fail(Errc::invalid_argument, path + ".key: kid is required");
  policy::Claims claims = config.claims.value_or(authority_claims);
  if (auto s = policy::validate_claims(claims, path + ".claims"); !s) return tl::unexpected(s.error());
  return JwkProvisioner(std::move(config), std::move(*key), claims);
}

nlohmann::json JwkProvisioner::to_json() const {
  nlohmann::json j = {{"type", "JWK"}, {"name", config_.name}, {"key", key_.public_json()}};
  if (!config_.encrypted_key.empty()) j["encryptedKey"] = config_.encrypted_key;
  if (config_.claims) j["claims"] = policy::claims_json(claims_);
  return j;
}

Result<TokenGrant> JwkProvisioner::authorize(const jose::Jws& token, const nlohmann::json& claims,
                                             std::string_view raw_token, const Audiences& audiences,
                                             Audience kind, common::TimePoint now) const {
  if (auto s = jose::verify(token, key_); !s) return tl::unexpected(s.error());
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || iss->get_ref<const std::string&>() != config_.name) {
    return unauthenticated("invalid issuer claim (iss)");
  }
  auto expires_at = check_token_times(claims, now);
  if (!expires_at) return tl::unexpected(expires_at.error());
  if (!audiences.matches(claims.value("aud", nlohmann::json()), kind)) {
    return unauthenticated("invalid token audience claim (aud)");
  }
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return unauthenticated("token subject cannot be empty");
  }

  TokenGrant grant;
  grant.subject = sub->get<std::string>();
  grant.expires_at = *expires_at;
  grant.provisioner = {signing::ProvisionerType::jwk, config_.name, key_.kid()};
  grant.token_id = token_id(claims, raw_token);
  std::vector<std::string> sans;
  if (auto s = claims.find("sans"); s != claims.end() && !s->is_null()) {
    if (!s->is_array()) return unauthenticated("token sans claim must be an array of strings");
    for (const auto& v : *s) {
      if (!v.is_string()) return unauthenticated("token sans claim must be an array of strings");
      sans.push_back(v.get<std::string>());
    }
  }
  if (sans.empty()) sans.push_back(grant.subject);
  if (sans.size() > crypto::kMaxCsrSans) return unauthenticated("token has too many sans");
  grant.names = policy::split_sans(sans);
  grant.names.common_name = grant.subject;
  if (auto cnf = claims.find("cnf"); cnf != claims.end() && cnf->is_object()) {
    if (auto x5rt = cnf->find("x5rt#S256"); x5rt != cnf->end() && x5rt->is_string()) {
      grant.csr_fingerprint = x5rt->get<std::string>();
    }
  }
  return grant;
}

Status check_csr_against_grant(const crypto::Csr& csr, const TokenGrant& grant) {
  if (grant.csr_fingerprint) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(csr.der().data(), csr.der().size(), md);
    if (common::base64url_encode(md, sizeof md) != *grant.csr_fingerprint) {
      return fail(Errc::permission_denied, "certificate request does not match the token's cnf fingerprint");
    }
  }
  const auto& names = grant.names;
  if (const auto& cn = csr.common_name(); !cn.empty()) {
    bool found = cn == grant.subject;
    for (const auto* list : {&names.dns, &names.ips, &names.emails, &names.uris}) {
      found = found || std::find(list->begin(), list->end(), cn) != list->end();
    }
    if (!found) {
      std::vector<std::string> want{grant.subject};
      for (const auto* list : {&names.dns, &names.ips, &names.emails, &names.uris}) {
        for (const auto& n : *list) {
          if (std::find(want.begin(), want.end(), n) == want.end()) want.push_back(n);
        }
      }
      return fail(Errc::permission_denied,
                  "certificate request does not contain the valid common name - got " + cn + ", want " + join(want));
    }
  }
  const auto& sans = csr.sans();
  if (auto s = same_names("DNS names", sans.dns, names.dns, true); !s) return s;
  if (auto s = same_names("IP addresses", sans.ips, names.ips, false); !s) return s;
  if (auto s = same_names("email addresses", sans.emails, names.emails, false); !s) return s;
  if (auto s = same_names("URIs", sans.uris, names.uris, false); !s) return s;
  return ok();
}

}  // namespace keystep::provisioners
