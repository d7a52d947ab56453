// keystep certificate inspect: show what a certificate says, as `step
// certificate inspect` does.

#include <iostream>

#include "cli/certificate_file.h"
#include "cli/certificate_summary.h"
#include "cli/commands.h"

namespace keystep::cli {
namespace {

CommandSpec certificate_inspect_spec() {
  return {
      .path = "certificate inspect",
      .usage = "FILE",
      .summary = "Show the subject, names, validity and extensions of a certificate",
      .description =
          "Reads the first certificate in FILE (PEM or DER) and prints its subject, issuer, serial\n"
          "number (hex and decimal), validity, public key, CA constraints, key usages, subject\n"
          "alternative names, key identifiers and SHA-256 fingerprint, as text or as JSON.\n"
          "\n"
          "Example:\n"
          "  keystep certificate inspect web.crt --format json",
      .flags = {{.name = "format", .help = "output format: text or json", .default_value = "text"}},
      .min_positional = 1,
      .max_positional = 1,
  };
}

int run_certificate_inspect(const Args& args) {
  const std::string format = args.get("format", "text");
  if (format != "text" && format != "json") {
    return usage_error(certificate_inspect_spec(), "flag --format: use text or json, not \"" + format + "\"");
  }
  auto cert = read_certificate_file(args.positional()[0]);
  if (!cert) return fail_with(cert.error().message);
  const CertificateSummary summary = summarize(*cert);
  // A certificate may carry names that are not UTF-8; show them replaced, do not throw.
  std::cout << (format == "json" ? to_json(summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                                 : to_text(summary));
  return 0;
}

}  // namespace

Command certificate_inspect_command() { return {certificate_inspect_spec(), run_certificate_inspect}; }

}  // namespace keystep::cli
