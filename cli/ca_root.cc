// keystep ca root: download the CA's root certificate by its fingerprint, as
// `step ca root --fingerprint`.

#include <algorithm>
#include <cctype>
#include <iostream>

#include "cli/ca_client.h"
#include "cli/commands.h"
#include "cli/output_file.h"
#include "issuer/common/file.h"

namespace keystep::cli {
namespace {

CommandSpec ca_root_spec() {
  return {
      .path = "ca root",
      .usage = "FILE",
      .summary = "Download the CA's root certificate, checked against its fingerprint",
      .description =
          "Fetches the root certificate whose SHA-256 fingerprint is --fingerprint from the CA and saves\n"
          "it in FILE. There is no root to verify the CA with yet, so the connection is not verified;\n"
          "instead the certificate received must have the given fingerprint, which you got from the\n"
          "CA's operator (`keystep certificate fingerprint root_ca.crt` prints it).\n"
          "\n"
          "Example:\n"
          "  keystep ca root root_ca.crt --ca-url https://ca.internal:9000 \\\n"
          "      --fingerprint 702a094e239c9eec6f0dcd0a5f65e595bf7ed6614012825c5fe3d1ae1b2fd6ee",
      .flags = {ca_url_flag(),
                {.name = "fingerprint",
                 .help = "SHA-256 fingerprint of the root, hex (':' and '-' are ignored) (required)"},
                force_flag()},
      .min_positional = 1,
      .max_positional = 1,
  };
}

Result<std::string> read_fingerprint(const Args& args) {
  auto given = args.required("fingerprint");
  if (!given) return given;
  std::string fingerprint = crypto::normalize_fingerprint(*given);
  if (fingerprint.size() != 64 ||
      !std::all_of(fingerprint.begin(), fingerprint.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    return fail(Errc::invalid_argument, "flag --fingerprint: \"" + *given + "\" is not a SHA-256 fingerprint");
  }
  return fingerprint;
}

Status download_root(const std::string& ca_url, const std::string& fingerprint, const std::string& file, bool force) {
  if (auto free = refuse_overwrite(file, force); !free) return free;
  auto response = CaClient::insecure(ca_url).get_json("/root/" + fingerprint);
  if (!response) return tl::unexpected(response.error());
  auto root = crypto::Certificate::from_pem(json_string(*response, "ca"));
  if (!root) return tl::unexpected(with_context(root.error(), "the CA's answer holds no root certificate"));
  if (root->sha256_hex() != fingerprint) return fail(Errc::permission_denied, "the root's fingerprint does not match");
  return common::write_file_atomic(file, root->pem(), kPublicFileMode);
}

int run_ca_root(const Args& args) {
  const std::string& file = args.positional()[0];
  auto ca_url = read_ca_url(args);
  if (!ca_url) return usage_error(ca_root_spec(), ca_url.error().message);
  auto fingerprint = read_fingerprint(args);
  if (!fingerprint) return usage_error(ca_root_spec(), fingerprint.error().message);
  if (auto saved = download_root(*ca_url, *fingerprint, file, args.has("force")); !saved) {
    return fail_with(saved.error().message);
  }
  std::cerr << "The root certificate has been saved in " << file << ".\n";
  return 0;
}

}  // namespace

Command ca_root_command() { return {ca_root_spec(), run_ca_root}; }

}  // namespace keystep::cli
