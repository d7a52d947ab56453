#pragma once
// ProvisionerFlags are the flags with which `keystep ca token` and `keystep
// ca certificate` mint a one-time token from a JWK provisioner's key:
// --provisioner, --provisioner-key, --password-file and --token-lifetime.
// read_provisioner_flags only validates them (usage errors name the flag);
// mint_token reads the key files and signs.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/token.h"
#include "issuer/common/error.h"

namespace keystep::cli {

struct ProvisionerFlags {
  std::string name;                                       // --provisioner: the token's issuer
  std::string key_file;                                   // --provisioner-key
  std::string password_file;                              // --password-file; empty when the key is not encrypted
  std::chrono::seconds lifetime = kDefaultTokenLifetime;  // --token-lifetime
};

[[nodiscard]] std::vector<FlagSpec> provisioner_flags();

// has_provisioner_flags is true when any of the flags is given.
[[nodiscard]] bool has_provisioner_flags(const Args& args);

// read_provisioner_flags requires --provisioner and --provisioner-key and
// keeps --token-lifetime within kMinTokenLifetime..kMaxTokenLifetime.
[[nodiscard]] Result<ProvisionerFlags> read_provisioner_flags(const Args& args);

// mint_token loads the provisioner key and signs claims as of now; the
// issuer and lifetime come from flags.
[[nodiscard]] Result<std::string> mint_token(const ProvisionerFlags& flags, TokenClaims claims);

// TokenFlags authorize a request to the CA with a one-time token: one made
// before (--token) or one to mint with the provisioner flags.
struct TokenFlags {
  std::string token;                            // --token; "" when minting
  std::optional<ProvisionerFlags> provisioner;  // set: mint the token
};

// read_token_flags wants --token or the provisioner flags, not both.
[[nodiscard]] Result<TokenFlags> read_token_flags(const Args& args);

// token_for returns --token as it is, or mints one for claims.
[[nodiscard]] Result<std::string> token_for(const TokenFlags& flags, TokenClaims claims);

}  // namespace keystep::cli
