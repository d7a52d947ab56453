#include "cli/key_flags.h"

namespace keystep::cli {

std::vector<FlagSpec> key_spec_flags() {
  return {
      {.name = "kty", .help = "key type: EC, RSA or OKP", .default_value = "EC"},
      {.name = "crv", .help = "curve: P-256 (default) or P-384 for EC, Ed25519 for OKP"},
      {.name = "size", .help = "RSA key size in bits: 2048 (default), 3072 or 4096"},
  };
}

Result<crypto::KeySpec> read_key_spec(const Args& args) {
  auto bits = args.get_int("size", 0);
  if (!bits) return tl::unexpected(bits.error());
  auto spec = crypto::parse_key_spec(args.get("kty"), args.get("crv"), *bits);
  if (!spec) return fail(Errc::invalid_argument, "flag " + spec.error().message);
  return spec;
}

}  // namespace keystep::cli
