#include "issuer/signing/certificate_authority.h"

#include "issuer/crypto/key.h"
#include "issuer/crypto/openssl_error.h"

namespace keystep::signing {

Result<std::shared_ptr<const CertificateAuthority>> CertificateAuthority::load(const CaSources& sources,
                                                                               common::TimePoint now) {
  std::shared_ptr<CertificateAuthority> ca(new CertificateAuthority());
  auto chain = crypto::Certificate::chain_from_pem(sources.chain_pem);
  if (!chain) return tl::unexpected(with_context(chain.error(), "intermediate certificate"));
  ca->chain_ = std::move(*chain);
  auto roots = crypto::Certificate::chain_from_pem(sources.roots_pem);
  if (!roots) return tl::unexpected(with_context(roots.error(), "root certificate"));
  ca->roots_ = std::move(*roots);
  auto key = crypto::private_key_from_pem(sources.key_pem, sources.password);
  if (!key) return tl::unexpected(with_context(key.error(), "intermediate key"));
  ca->key_ = std::move(*key);

  const auto& cert = ca->intermediate();
  const std::string who = "intermediate \"" + cert.subject() + "\"";
  if (cert.is_self_signed()) {
    return fail(Errc::failed_precondition,
                who + " is a self-signed root; Keystep signs with an intermediate so the root key stays offline: "
                      "make one with `keystep init`, or sign one with `keystep ca sign-intermediate --root-cert "
                      "ROOT --root-key KEY` from a CSR made by `keystep init --intermediate-csr-only`");
  }
  if (!crypto::same_public_key(cert.public_key(), ca->key_.get())) {
    return fail(Errc::invalid_argument, "intermediate key does not match the " + who);
  }
  if (!cert.is_ca()) {
    return fail(Errc::failed_precondition, who + " is not a CA certificate (basicConstraints CA:TRUE is missing)");
  }
  if (!cert.can_sign_certificates()) {
    return fail(Errc::failed_precondition, who + " lacks the keyCertSign key usage");
  }
  if (now < cert.not_before()) {
    return fail(Errc::failed_precondition, who + " is not valid yet");
  }
  if (now >= cert.not_after()) {
    return fail(Errc::failed_precondition, who + " has expired");
  }

  crypto::X509StorePtr store(X509_STORE_new());
  for (const auto& root : ca->roots_) X509_STORE_add_cert(store.get(), root.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < ca->chain_.size(); ++i) sk_X509_push(untrusted, ca->chain_[i].get());
  crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), untrusted);
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now));
  int verified = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  sk_X509_free(untrusted);
  if (verified != 1) {
    ERR_clear_error();
    return fail(Errc::failed_precondition,
                who + " does not chain to the configured root: " + X509_verify_cert_error_string(err));
  }
  for (const auto& c : ca->chain_) {
    auto* nc = static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(c.get(), NID_name_constraints, nullptr, nullptr));
    if (nc != nullptr) ca->name_constraints_.emplace_back(nc);
  }
  return std::shared_ptr<const CertificateAuthority>(std::move(ca));
}

Status CertificateAuthority::check_name_constraints(X509* leaf) const {
  if (name_constraints_.empty()) return ok();
  // NAME_CONSTRAINTS_check reads the decoded-extension cache; fill it.
  X509_check_purpose(leaf, -1, 0);
  for (const auto& nc : name_constraints_) {
    int rc = NAME_CONSTRAINTS_check(leaf, nc.get());
    if (rc != X509_V_OK) {
      return fail(Errc::permission_denied, std::string("a name is outside the intermediate's name constraints (") +
                                               X509_verify_cert_error_string(rc) + ")");
    }
  }
  return ok();
}

}  // namespace keystep::signing
