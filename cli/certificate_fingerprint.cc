// keystep certificate fingerprint: print a certificate's SHA-256
// fingerprint, as `step certificate fingerprint`.

#include <iostream>

#include "cli/certificate_file.h"
#include "cli/commands.h"

namespace keystep::cli {
namespace {

CommandSpec certificate_fingerprint_spec() {
  return {
      .path = "certificate fingerprint",
      .usage = "FILE",
      .summary = "Print the SHA-256 fingerprint of a certificate",
      .description =
          "Prints the lowercase hex SHA-256 of the DER of the first certificate in FILE (PEM or DER),\n"
          "the value `keystep ca root --fingerprint` and the token's \"sha\" claim expect.\n"
          "\n"
          "Example:\n"
          "  keystep certificate fingerprint root_ca.crt",
      .min_positional = 1,
      .max_positional = 1,
  };
}

int run_certificate_fingerprint(const Args& args) {
  auto cert = read_certificate_file(args.positional()[0]);
  if (!cert) return fail_with(cert.error().message);
  std::cout << cert->sha256_hex() << "\n";
  return 0;
}

}  // namespace

Command certificate_fingerprint_command() { return {certificate_fingerprint_spec(), run_certificate_fingerprint}; }

}  // namespace keystep::cli
