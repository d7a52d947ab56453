#include "cli/ca_material.h"

#include "issuer/common/duration.h"
#include "issuer/policy/names.h"
#include "issuer/signing/certificate_authority.h"
#include "issuer/signing/signer.h"

namespace keystep::cli {

Result<std::chrono::seconds> parse_ca_lifetime(const std::string& flag, const std::string& text) {
  if (!text.empty() && text.back() == 'y') {
    try {
      std::size_t used = 0;
      int years = std::stoi(text.substr(0, text.size() - 1), &used);
      if (used == text.size() - 1 && years > 0 && years <= 100) {
        return std::chrono::seconds(std::chrono::hours(24 * 365) * years);
      }
    } catch (...) {
    }
    return fail(Errc::invalid_argument, "flag --" + flag + ": \"" + text + "\" is not a lifetime like 10y or 8760h");
  }
  auto d = common::parse_duration(text);
  if (!d || d->count() <= 0) {
    return fail(Errc::invalid_argument, "flag --" + flag + ": \"" + text + "\" is not a lifetime like 10y or 8760h");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

std::vector<FlagSpec> name_constraint_flags() {
  return {
      {"permit-dns", "name constraint: permitted DNS subtree, e.g. .internal (repeatable)", true, true},
      {"exclude-dns", "name constraint: excluded DNS subtree (repeatable)", true, true},
      {"permit-ip", "name constraint: permitted IP range in CIDR form, e.g. 10.0.0.0/8 (repeatable)", true, true},
      {"exclude-ip", "name constraint: excluded IP range in CIDR form (repeatable)", true, true},
      {"permit-email", "name constraint: permitted email domain or mailbox (repeatable)", true, true},
      {"permit-uri", "name constraint: permitted URI host subtree, e.g. .spiffe.internal (repeatable)", true, true},
  };
}

crypto::NameConstraints name_constraints_from(const Args& args) {
  crypto::NameConstraints nc;
  nc.permitted_dns = args.all("permit-dns");
  nc.excluded_dns = args.all("exclude-dns");
  nc.permitted_ips = args.all("permit-ip");
  nc.excluded_ips = args.all("exclude-ip");
  nc.permitted_emails = args.all("permit-email");
  nc.permitted_uris = args.all("permit-uri");
  return nc;
}

Result<crypto::Certificate> sign_intermediate(const IntermediateSpec& spec, const crypto::Certificate& root,
                                              EVP_PKEY* root_key) {
  crypto::CertificateBuilder b;
  auto not_after = std::min(spec.not_after, root.not_after());
  for (auto s : {b.set_random_serial(), b.set_subject(spec.subject), b.set_issuer(root),
                 b.set_validity(spec.not_before, not_after), b.set_public_key(spec.public_key),
                 b.add_basic_constraints(true, 0),
                 b.add_key_usage(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE),
                 b.add_name_constraints(spec.constraints)}) {
    if (!s) return tl::unexpected(s.error());
  }
  return b.sign(root_key);
}

Status check_serves_names(const std::string& chain_pem, std::string_view key_pem, const std::string& root_pem,
                          const std::vector<std::string>& names) {
  const auto now = std::chrono::system_clock::now();
  auto ca = signing::CertificateAuthority::load({chain_pem, std::string(key_pem), root_pem}, now);
  if (!ca) return tl::unexpected(ca.error());
  auto split = policy::split_sans(names);
  signing::LeafRequest leaf{.public_key = (*ca)->key(),
                            .common_name = names.front(),
                            .sans = {split.dns, split.ips, split.emails, split.uris},
                            .not_before = now,
                            .not_after = now + std::chrono::hours(1)};
  auto issued = signing::Signer(*ca).sign(leaf);
  if (!issued) {
    return fail(Errc::invalid_argument, "the CA could not serve its own names (--dns): " + issued.error().message);
  }
  return ok();
}

}  // namespace keystep::cli
