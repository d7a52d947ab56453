// keystep ca certificate: generate a key, have the CA sign it with a JWK
// provisioner's token and save certificate chain and key, as
// `step ca certificate` does.

#include <iostream>

#include "cli/ca_client.h"
#include "cli/certificate_request.h"
#include "cli/commands.h"
#include "cli/key_flags.h"
#include "cli/output_file.h"
#include "cli/provisioner_flags.h"
#include "cli/sign_response.h"
#include "issuer/common/duration.h"
#include "issuer/common/file.h"
#include "issuer/policy/time_format.h"

namespace keystep::cli {
namespace {

CommandSpec ca_certificate_spec() {
  CommandSpec spec{
      .path = "ca certificate",
      .usage = "SUBJECT CRT KEY",
      .summary = "Get a certificate from the CA for a new key",
      .description =
          "Generates a private key, asks the CA to sign a certificate for SUBJECT and its --san names,\n"
          "and saves the certificate chain (leaf first, then intermediates) in CRT and the private key,\n"
          "unencrypted and readable only by you, in KEY. The request is authorized by a one-time token\n"
          "minted here with a JWK provisioner's key (--provisioner, --provisioner-key) or made before\n"
          "with `keystep ca token` (--token). The CA is verified with --root.\n"
          "\n"
          "Example:\n"
          "  keystep ca certificate web.internal web.crt web.key --ca-url https://ca.internal:9000 \\\n"
          "      --root root_ca.crt --provisioner admin --provisioner-key secrets/admin.jwk \\\n"
          "      --password-file password.txt --san web.internal --san 10.0.0.5 --not-after 24h",
      .flags = {ca_url_flag(),
                root_flag(),
                {.name = "san",
                 .help = "a name for the certificate: DNS name, IP address, email or URI; repeat or separate "
                         "with commas",
                 .repeatable = true,
                 .default_value = "SUBJECT"},
                {.name = "not-before", .help = "start of validity: RFC 3339 time or duration from now (\"5m\")"},
                {.name = "not-after",
                 .help = "end of validity: RFC 3339 time or duration from the start (\"24h\"); the CA's "
                         "default when unset"},
                {.name = "token", .help = "a token from `keystep ca token`, instead of --provisioner"}},
      .min_positional = 3,
      .max_positional = 3,
  };
  for (auto group : {key_spec_flags(), provisioner_flags()}) {
    spec.flags.insert(spec.flags.end(), group.begin(), group.end());
  }
  spec.flags.push_back(force_flag());
  return spec;
}

struct Options {
  std::string subject, crt_file, key_file;
  CaFlags ca;
  std::vector<std::string> sans;
  std::string not_before, not_after;  // sent as given; "" leaves it to the CA
  crypto::KeySpec key_spec;
  TokenFlags authorization;
  bool force = false;
};

Result<std::string> read_time_flag(const Args& args, const std::string& flag) {
  if (!args.has(flag)) return std::string();
  std::string text = args.get(flag);
  auto time = policy::parse_rfc3339(text);
  if (time || common::parse_duration(text)) return text;
  if (text.find('T') != std::string::npos)
    return fail(Errc::invalid_argument, "flag --" + flag + ": " + time.error().message);
  return fail(Errc::invalid_argument,
              "flag --" + flag + ": \"" + text + "\" is neither an RFC 3339 time nor a duration such as 24h");
}

Result<Options> read_options(const Args& args) {
  Options o{.subject = args.positional()[0], .crt_file = args.positional()[1], .key_file = args.positional()[2]};
  auto ca = read_ca_flags(args);
  if (!ca) return tl::unexpected(ca.error());
  o.ca = *ca;
  o.sans = args.all("san");
  if (o.sans.empty()) o.sans = {o.subject};
  auto not_before = read_time_flag(args, "not-before");
  if (!not_before) return tl::unexpected(not_before.error());
  auto not_after = read_time_flag(args, "not-after");
  if (!not_after) return tl::unexpected(not_after.error());
  o.not_before = *not_before;
  o.not_after = *not_after;
  auto key_spec = read_key_spec(args);
  if (!key_spec) return tl::unexpected(key_spec.error());
  o.key_spec = *key_spec;
  auto authorization = read_token_flags(args);
  if (!authorization) return tl::unexpected(authorization.error());
  o.authorization = *authorization;
  o.force = args.has("force");
  return o;
}

Status get_certificate(const Options& o) {
  for (const auto& file : {o.crt_file, o.key_file}) {
    if (auto free = refuse_overwrite(file, o.force); !free) return free;
  }
  auto roots = read_roots(o.ca.root_file);
  if (!roots) return tl::unexpected(roots.error());
  auto key = crypto::generate_key(o.key_spec);
  if (!key) return tl::unexpected(key.error());
  auto csr = make_csr_pem(key->get(), o.subject, o.sans);
  if (!csr) return tl::unexpected(csr.error());
  auto token = token_for(o.authorization, {.subject = o.subject,
                                           .sans = o.sans,
                                           .audience = endpoint_url(o.ca.ca_url, kSignAudiencePath),
                                           .root_sha256 = roots->front().sha256_hex()});
  if (!token) return tl::unexpected(token.error());
  const nlohmann::json request = {
      {"csr", *csr}, {"ott", *token}, {"notBefore", o.not_before}, {"notAfter", o.not_after}};
  auto response = CaClient::verified(o.ca.ca_url, *roots).post_json("/1.0/sign", request);
  if (!response) return tl::unexpected(response.error());
  auto chain = chain_from_sign_response(*response, key->get());
  if (!chain) return tl::unexpected(chain.error());
  auto key_pem = crypto::private_key_to_pem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error());
  if (auto written = common::write_file_atomic(o.crt_file, crypto::chain_to_pem(*chain), kPublicFileMode); !written) {
    return written;
  }
  return common::write_file_atomic(o.key_file, key_pem->view(), kPrivateFileMode);
}

int run_ca_certificate(const Args& args) {
  auto options = read_options(args);
  if (!options) return usage_error(ca_certificate_spec(), options.error().message);
  if (auto done = get_certificate(*options); !done) return fail_with(done.error().message);
  std::cerr << "Your certificate has been saved in " << options->crt_file << ".\n"
            << "Your private key has been saved in " << options->key_file << ".\n";
  return 0;
}

}  // namespace

Command ca_certificate_command() { return {ca_certificate_spec(), run_ca_certificate}; }

}  // namespace keystep::cli
