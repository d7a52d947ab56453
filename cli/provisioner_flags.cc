#include "cli/provisioner_flags.h"

#include <optional>

#include "cli/provisioner_key.h"
#include "issuer/common/duration.h"
#include "issuer/crypto/password.h"

namespace keystep::cli {

std::vector<FlagSpec> provisioner_flags() {
  return {
      {.name = "provisioner", .help = "name of the JWK provisioner that signs the token"},
      {.name = "provisioner-key",
       .help = "FILE with the provisioner's private JWK: a JWE (as keystep init or step crypto jwk create "
               "write it) or a plain JWK"},
      {.name = "password-file", .help = "FILE whose first line is the password of an encrypted provisioner key"},
      {.name = "token-lifetime", .help = "how long the token is valid, 10s to 1h", .default_value = "5m"},
  };
}

bool has_provisioner_flags(const Args& args) {
  for (const auto& flag : provisioner_flags()) {
    if (args.has(flag.name)) return true;
  }
  return false;
}

Result<ProvisionerFlags> read_provisioner_flags(const Args& args) {
  ProvisionerFlags flags;
  auto name = args.required("provisioner");
  if (!name) return tl::unexpected(name.error());
  auto key_file = args.required("provisioner-key");
  if (!key_file) return tl::unexpected(key_file.error());
  flags.name = *name;
  flags.key_file = *key_file;
  flags.password_file = args.get("password-file");
  if (args.has("token-lifetime")) {
    const std::string text = args.get("token-lifetime");
    auto lifetime = common::parse_duration(text);
    if (!lifetime) return fail(Errc::invalid_argument, "flag --token-lifetime: " + lifetime.error().message);
    if (*lifetime < kMinTokenLifetime || *lifetime > kMaxTokenLifetime) {
      return fail(Errc::invalid_argument, "flag --token-lifetime: \"" + text + "\" is not between 10s and 1h");
    }
    flags.lifetime = std::chrono::duration_cast<std::chrono::seconds>(*lifetime);
  }
  return flags;
}

Result<std::string> mint_token(const ProvisionerFlags& flags, TokenClaims claims) {
  std::optional<crypto::SecretBytes> password;
  if (!flags.password_file.empty()) {
    auto read = crypto::read_password_file(flags.password_file);
    if (!read) return tl::unexpected(read.error());
    password = std::move(*read);
  }
  auto key = load_provisioner_key(flags.key_file, password ? &*password : nullptr);
  if (!key) return tl::unexpected(key.error());
  claims.issuer = flags.name;
  claims.lifetime = flags.lifetime;
  return sign_token(claims, *key, std::chrono::system_clock::now());
}

Result<TokenFlags> read_token_flags(const Args& args) {
  if (args.has("token")) {
    if (has_provisioner_flags(args)) return fail(Errc::invalid_argument, "give --token or --provisioner, not both");
    auto token = args.required("token");
    if (!token) return tl::unexpected(token.error());
    return TokenFlags{.token = *token};
  }
  if (!has_provisioner_flags(args)) {
    return fail(Errc::invalid_argument, "give --provisioner with --provisioner-key, or --token");
  }
  auto provisioner = read_provisioner_flags(args);
  if (!provisioner) return tl::unexpected(provisioner.error());
  return TokenFlags{.provisioner = *provisioner};
}

Result<std::string> token_for(const TokenFlags& flags, TokenClaims claims) {
  if (!flags.provisioner) return flags.token;
  return mint_token(*flags.provisioner, std::move(claims));
}

}  // namespace keystep::cli
