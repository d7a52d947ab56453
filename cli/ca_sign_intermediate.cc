// keystep ca sign-intermediate: the offline half of the split ceremony. The
// root key signs an intermediate CA certificate for a CSR made by
// `keystep init --intermediate-csr-only`; the root key never goes online.

#include <filesystem>
#include <iostream>

#include "cli/ca_material.h"
#include "cli/commands.h"
#include "cli/output_file.h"
#include "issuer/common/file.h"
#include "issuer/crypto/csr.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/password.h"
#include "issuer/policy/time_format.h"

namespace keystep::cli {
namespace {

CommandSpec spec() {
  CommandSpec s;
  s.path = "ca sign-intermediate";
  s.usage = "CSR CRT --root-cert FILE --root-key FILE";
  s.summary = "sign an intermediate CA CSR with an offline root";
  s.description =
      "Writes CRT: an intermediate CA certificate (pathlen 0, keyCertSign, cRLSign) for the CSR's key and\n"
      "subject, signed by the root. Run it on the offline machine that holds the root key.\n\n"
      "Example:\n"
      "  keystep ca sign-intermediate intermediate_ca.csr intermediate_ca.crt \\\n"
      "    --root-cert root_ca.crt --root-key root_ca_key --password-file pw.txt --permit-dns .internal";
  s.min_positional = 2;
  s.max_positional = 2;
  s.flags = {
      {"root-cert", "the root certificate"},
      {"root-key", "the root key"},
      {"password-file", "password of the root key"},
      {"duration", "lifetime of the intermediate, e.g. 5y", true, false, "5y"},
      force_flag(),
  };
  for (auto& f : name_constraint_flags()) s.flags.push_back(f);
  return s;
}

int run(const Args& args) {
  const auto& pos = args.positional();
  auto root_cert_path = args.required("root-cert");
  if (!root_cert_path) return usage_error(spec(), root_cert_path.error().message);
  auto root_key_path = args.required("root-key");
  if (!root_key_path) return usage_error(spec(), root_key_path.error().message);
  auto lifetime = parse_ca_lifetime("duration", args.get("duration", "5y"));
  if (!lifetime) return usage_error(spec(), lifetime.error().message);
  if (auto s = refuse_overwrite(pos[1], args.has("force")); !s) return fail_with(s.error().message);
  auto csr_pem = common::read_file(pos[0], crypto::kMaxCsrPemBytes + 1);
  if (!csr_pem) return fail_with(csr_pem.error().message);
  auto csr = crypto::Csr::from_pem(*csr_pem);
  if (!csr) return fail_with(pos[0] + ": " + csr.error().message);
  if (auto s = crypto::check_leaf_key(csr->public_key()); !s) return fail_with(pos[0] + ": " + s.error().message);

  auto root_pem = common::read_file(*root_cert_path);
  if (!root_pem) return fail_with(root_pem.error().message);
  auto root = crypto::Certificate::from_pem(*root_pem);
  if (!root) return fail_with(*root_cert_path + ": " + root.error().message);
  if (!root->is_ca() || !root->can_sign_certificates()) return fail_with(*root_cert_path + " is not a CA certificate");

  std::optional<crypto::SecretBytes> password;
  if (args.has("password-file")) {
    auto pw = crypto::read_password_file(args.get("password-file"));
    if (!pw) return fail_with(pw.error().message);
    password = std::move(*pw);
  }
  auto key_pem = common::read_file(*root_key_path);
  if (!key_pem) return fail_with(key_pem.error().message);
  auto root_key = crypto::private_key_from_pem(*key_pem, password ? &*password : nullptr);
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!root_key) return fail_with(*root_key_path + ": " + root_key.error().message);
  if (!crypto::same_public_key(root_key->get(), root->public_key())) {
    return fail_with(*root_key_path + " is not the key of " + *root_cert_path);
  }
  const auto now = std::chrono::system_clock::now();
  auto cert = sign_intermediate({X509_REQ_get_subject_name(csr->get()), csr->public_key(),
                                 now - std::chrono::minutes(1), now + *lifetime, name_constraints_from(args)},
                                *root, root_key->get());
  if (!cert) return fail_with(cert.error().message);
  if (auto s = common::write_file_atomic(pos[1], cert->pem(), kPublicFileMode); !s) {
    return fail_with(s.error().message);
  }
  std::cout << "Intermediate \"" << cert->subject() << "\" written to " << pos[1] << " (valid until "
            << policy::format_rfc3339(cert->not_after()) << ")\n";
  return 0;
}

}  // namespace

Command ca_sign_intermediate_command() { return {spec(), run}; }

}  // namespace keystep::cli
