// keystep ca token: mint a JWK provisioner's one-time token, as `step ca token`.

#include <iostream>

#include "cli/ca_client.h"
#include "cli/commands.h"
#include "cli/provisioner_flags.h"

namespace keystep::cli {
namespace {

CommandSpec ca_token_spec() {
  CommandSpec spec{
      .path = "ca token",
      .usage = "SUBJECT",
      .summary = "Mint a one-time token for the CA, signed by a JWK provisioner",
      .description =
          "Prints a token (a JWT) that lets its holder get one certificate for SUBJECT from the CA,\n"
          "or with --revoke revoke the certificate whose serial number is SUBJECT. The token is\n"
          "signed with the provisioner's private key, names the CA's /1.0/sign (or /1.0/revoke)\n"
          "endpoint as its audience, can be used once and expires after --token-lifetime.\n"
          "Only the token is printed, on stdout.\n"
          "\n"
          "Example:\n"
          "  keystep ca token web.internal --ca-url https://ca.internal:9000 --root root_ca.crt \\\n"
          "      --provisioner admin --provisioner-key secrets/admin.jwk --password-file password.txt \\\n"
          "      --san web.internal --san 10.0.0.5",
      .flags = {ca_url_flag(),
                root_flag("FILE with the CA's root certificate; its SHA-256 becomes the token's \"sha\" claim"),
                {.name = "san",
                 .help = "a name the certificate may hold: DNS name, IP address, email or URI; repeat or "
                         "separate with commas",
                 .repeatable = true,
                 .default_value = "SUBJECT"},
                {.name = "revoke",
                 .help = "mint a token to revoke the certificate with serial SUBJECT",
                 .takes_value = false}},
      .min_positional = 1,
      .max_positional = 1,
  };
  auto more = provisioner_flags();
  spec.flags.insert(spec.flags.end(), more.begin(), more.end());
  return spec;
}

int run_ca_token(const Args& args) {
  const std::string& subject = args.positional()[0];
  auto ca_url = read_ca_url(args);
  if (!ca_url) return usage_error(ca_token_spec(), ca_url.error().message);
  auto provisioner = read_provisioner_flags(args);
  if (!provisioner) return usage_error(ca_token_spec(), provisioner.error().message);
  const bool revoke = args.has("revoke");
  auto sans = args.all("san");
  if (revoke && !sans.empty()) return usage_error(ca_token_spec(), "flag --san cannot be used with --revoke");

  TokenClaims claims{.subject = subject,
                     .audience = endpoint_url(*ca_url, revoke ? kRevokeAudiencePath : kSignAudiencePath)};
  if (!revoke) claims.sans = sans.empty() ? std::vector{subject} : sans;
  if (args.has("root")) {
    auto roots = read_roots(args.get("root"));
    if (!roots) return fail_with(roots.error().message);
    claims.root_sha256 = roots->front().sha256_hex();
  }
  auto token = mint_token(*provisioner, std::move(claims));
  if (!token) return fail_with(token.error().message);
  std::cout << *token << "\n";
  return 0;
}

}  // namespace

Command ca_token_command() { return {ca_token_spec(), run_ca_token}; }

}  // namespace keystep::cli
