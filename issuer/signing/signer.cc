#include "issuer/signing/signer.h"

#include "issuer/crypto/certificate_builder.h"

namespace keystep::signing {
namespace {

Status add_usages(crypto::CertificateBuilder& b, const LeafRequest& request) {
  const bool is_rsa = EVP_PKEY_get_base_id(request.public_key) == EVP_PKEY_RSA;
  policy::KeyUsages usages = request.usages.value_or(policy::KeyUsages{
      .key_usage = KU_DIGITAL_SIGNATURE | (is_rsa ? KU_KEY_ENCIPHERMENT : 0),
      .ext_key_usage = {NID_server_auth, NID_client_auth}});
  if (request.is_ca) {
    if (auto s = b.add_basic_constraints(true, 0); !s) return s;
    usages.key_usage |= KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE;
    if (!request.usages) usages.ext_key_usage.clear();
  }
  if (usages.key_usage != 0) {
    if (auto s = b.add_key_usage(usages.key_usage); !s) return s;
  }
  if (!usages.ext_key_usage.empty()) {
    if (auto s = b.add_ext_key_usage(usages.ext_key_usage); !s) return s;
  }
  return ok();
}

}  // namespace

Result<IssuedCertificate> Signer::sign(const LeafRequest& request) const {
  const auto& issuer = ca_->intermediate();
  auto not_after = std::min(request.not_after, issuer.not_after());
  if (not_after <= request.not_before) {
    return fail(Errc::failed_precondition, "the intermediate expires before the requested start of validity");
  }
  crypto::CertificateBuilder b;
  if (auto s = b.set_random_serial(); !s) return tl::unexpected(s.error());
  if (auto s = b.set_subject_common_name(request.common_name); !s) return tl::unexpected(s.error());
  if (auto s = b.set_issuer(issuer); !s) return tl::unexpected(s.error());
  if (auto s = b.set_validity(request.not_before, not_after); !s) return tl::unexpected(s.error());
  if (auto s = request.public_key_info != nullptr ? b.set_public_key_info(request.public_key_info, request.public_key)
                                                  : b.set_public_key(request.public_key);
      !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = add_usages(b, request); !s) return tl::unexpected(s.error());
  if (auto s = b.add_subject_alt_names(request.sans, request.common_name.empty()); !s) {
    return tl::unexpected(s.error());
  }
  if (!request.provisioner.name.empty()) {
    if (auto s = b.add_der_extension(kProvisionerOid, encode_provisioner_extension(request.provisioner), false); !s) {
      return tl::unexpected(s.error());
    }
  }
  if (request.extra_extensions != nullptr) {
    for (const auto& ext : *request.extra_extensions) {
      if (auto s = b.add_der_extension(ext.oid, ext.der, ext.critical); !s) return tl::unexpected(s.error());
    }
  }
  auto leaf = b.sign(ca_->key());
  if (!leaf) return tl::unexpected(leaf.error());
  if (auto s = ca_->check_name_constraints(leaf->get()); !s) return tl::unexpected(s.error());
  IssuedCertificate issued{*leaf, {}};
  issued.chain.reserve(1 + ca_->chain().size());
  issued.chain.push_back(std::move(*leaf));
  for (const auto& c : ca_->chain()) issued.chain.push_back(c);
  return issued;
}

}  // namespace keystep::signing
