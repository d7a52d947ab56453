// keystep crypto jwk create: make a JWK key pair for a JWK provisioner, as
// `step crypto jwk create`.

#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/key_flags.h"
#include "cli/output_file.h"
#include "cli/secret_json.h"
#include "issuer/common/file.h"
#include "issuer/crypto/jose/jwe.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/password.h"

namespace keystep::cli {
namespace {

CommandSpec crypto_jwk_create_spec() {
  CommandSpec spec{
      .path = "crypto jwk create",
      .usage = "PUB PRIV",
      .summary = "Create a JWK key pair, e.g. for a JWK provisioner",
      .description =
          "Generates a signing key and writes its public JWK (JSON) to PUB and its private JWK to PRIV:\n"
          "encrypted with the password of --password-file as a compact JWE (PBES2-HS256+A128KW,\n"
          "A256GCM, 600000 iterations, as step encrypts provisioner keys), or as plain JSON with\n"
          "--no-password. PRIV is readable only by you. The key's kid is its RFC 7638 thumbprint.\n"
          "\n"
          "Example:\n"
          "  keystep crypto jwk create admin.pub.json admin.key.jwe --password-file password.txt",
      .flags = key_spec_flags(),
      .min_positional = 2,
      .max_positional = 2,
  };
  spec.flags.push_back({.name = "password-file", .help = "FILE whose first line is the password to encrypt PRIV"});
  spec.flags.push_back({.name = "no-password", .help = "write PRIV unencrypted", .takes_value = false});
  spec.flags.push_back(force_flag());
  return spec;
}

// private_jwk_text renders PRIV: a JWE under the password, else plain JSON.
Result<crypto::SecretBytes> private_jwk_text(const jose::Jwk& jwk, const crypto::SecretBytes* password) {
  auto json = jwk.private_json();
  if (!json) return tl::unexpected(json.error());
  const SecretJson secret(std::move(*json));
  std::string dumped = secret.value().dump(password != nullptr ? -1 : 2);
  if (password == nullptr) dumped += '\n';
  crypto::SecretBytes text(dumped);
  wipe_string(dumped);
  if (password == nullptr) return text;
  auto jwe = jose::encrypt_pbes2(text.view(), password->view());
  if (!jwe) return tl::unexpected(jwe.error());
  return crypto::SecretBytes(*jwe);
}

Status create_jwk(const Args& args, const crypto::KeySpec& spec) {
  const std::string pub_file = args.positional()[0];
  const std::string priv_file = args.positional()[1];
  const bool force = args.has("force");
  for (const auto& file : {pub_file, priv_file}) {
    if (auto free = refuse_overwrite(file, force); !free) return free;
  }
  std::optional<crypto::SecretBytes> password;
  if (args.has("password-file")) {
    auto read = crypto::read_password_file(args.get("password-file"));
    if (!read) return tl::unexpected(read.error());
    if (read->empty()) {
      return fail(Errc::invalid_argument, "the password file " + args.get("password-file") + " is empty");
    }
    password = std::move(*read);
  }
  auto jwk = jose::Jwk::generate(spec.kty, spec.bits, spec.crv);
  if (!jwk) return tl::unexpected(jwk.error());
  auto priv = private_jwk_text(*jwk, password ? &*password : nullptr);
  if (!priv) return tl::unexpected(priv.error());
  if (auto written = common::write_file_atomic(pub_file, jwk->public_json().dump(2) + "\n", kPublicFileMode);
      !written) {
    return written;
  }
  return common::write_file_atomic(priv_file, priv->view(), kPrivateFileMode);
}

int run_crypto_jwk_create(const Args& args) {
  if (args.has("password-file") == args.has("no-password")) {
    return usage_error(crypto_jwk_create_spec(), "give exactly one of --password-file and --no-password");
  }
  auto spec = read_key_spec(args);
  if (!spec) return usage_error(crypto_jwk_create_spec(), spec.error().message);
  if (auto created = create_jwk(args, *spec); !created) return fail_with(created.error().message);
  std::cerr << "Your public key has been saved in " << args.positional()[0] << ".\n"
            << "Your private key has been saved in " << args.positional()[1] << ".\n";
  return 0;
}

}  // namespace

Command crypto_jwk_create_command() { return {crypto_jwk_create_spec(), run_crypto_jwk_create}; }

}  // namespace keystep::cli
