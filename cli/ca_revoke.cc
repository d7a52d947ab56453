// keystep ca revoke: revoke a certificate by its serial number, as `step ca
// revoke`: authorized by a one-time token (--token, or minted here with a
// JWK provisioner's key) or by the certificate itself over mTLS (--cert,
// --key). Revocation is passive: the CA refuses to renew the certificate and
// lists it in its CRL.

#include <iostream>

#include "cli/ca_client.h"
#include "cli/client_identity.h"
#include "cli/commands.h"
#include "cli/provisioner_flags.h"
#include "cli/revocation_reason.h"
#include "issuer/revocation/serial.h"
#include "issuer/revocation/reason_code.h"

namespace keystep::cli {
namespace {

CommandSpec ca_revoke_spec() {
  CommandSpec spec{
      .path = "ca revoke",
      .usage = "[SERIAL]",
      .summary = "Revoke a certificate by its serial number",
      .description =
          "Asks the CA to revoke the certificate with serial number SERIAL, in decimal or in hex after\n"
          "0x (`keystep certificate inspect` prints both). The CA then refuses to renew it and lists it\n"
          "in its CRL. The request is authorized by a one-time token for SERIAL - given with --token\n"
          "(`keystep ca token SERIAL --revoke`) or minted here with --provisioner and --provisioner-key -\n"
          "or by the certificate itself over mTLS with --cert and --key, where SERIAL may be left out.\n"
          "The CA is verified with --root. Reasons: " +
          reason_names() +
          ".\n"
          "\n"
          "Example:\n"
          "  keystep ca revoke 308893286343609293989051180431574390766 --ca-url https://ca.internal:9000 \\\n"
          "      --root root_ca.crt --provisioner admin --provisioner-key secrets/admin.jwk \\\n"
          "      --password-file password.txt --reason-name keyCompromise --reason \"laptop stolen\"\n"
          "\n"
          "Over mTLS with the certificate itself:\n"
          "  keystep ca revoke --cert web.crt --key web.key --ca-url https://ca.internal:9000 \\\n"
          "      --root root_ca.crt --reason-name superseded",
      .flags = {ca_url_flag(),
                root_flag(),
                {.name = "reason", .help = "TEXT saying why, kept by the CA"},
                {.name = "reason-code", .help = "RFC 5280 reason code N, 0 to 10 but not 7", .default_value = "0"},
                {.name = "reason-name", .help = "the reason by name instead of --reason-code: keyCompromise, ..."},
                {.name = "token", .help = "a token from `keystep ca token SERIAL --revoke`"},
                {.name = "cert", .help = "CRT: revoke this certificate, authorized by mTLS with it"},
                {.name = "key", .help = "KEY: the private key of --cert"}},
      .min_positional = 0,
      .max_positional = 1,
  };
  auto more = provisioner_flags();
  spec.flags.insert(spec.flags.end(), more.begin(), more.end());
  return spec;
}

struct Options {
  std::string serial;  // decimal; "" until read from --cert
  CaFlags ca;
  int reason_code = 0;
  std::string reason;
  TokenFlags authorization;          // without --cert
  std::string cert_file, key_file;  // mTLS
};

Result<int> read_reason_code(const Args& args) {
  if (args.has("reason-name")) {
    if (args.has("reason-code")) return fail(Errc::invalid_argument, "give --reason-code or --reason-name, not both");
    auto code = reason_code_by_name(args.get("reason-name"));
    if (!code) {
      return fail(Errc::invalid_argument,
                  "flag --reason-name: \"" + args.get("reason-name") + "\" is not one of " + reason_names());
    }
    return *code;
  }
  auto code = args.get_int("reason-code", revocation::kReasonUnspecified);
  if (!code) return code;
  if (!revocation::is_valid_reason_code(*code)) {
    return fail(Errc::invalid_argument, "flag --reason-code: " + std::to_string(*code) +
                                            " is not an RFC 5280 reason code (0 to 10 but not 7)");
  }
  return code;
}

// read_authorization reads --cert and --key, or the token flags.
Status read_authorization(const Args& args, Options& o) {
  const bool has_token_flags = args.has("token") || has_provisioner_flags(args);
  if (has_token_flags == (args.has("cert") || args.has("key"))) {
    return fail(Errc::invalid_argument,
                "give one of --token, --provisioner with --provisioner-key, or --cert with --key");
  }
  if (has_token_flags) {
    auto authorization = read_token_flags(args);
    if (!authorization) return tl::unexpected(authorization.error());
    o.authorization = *authorization;
    return ok();
  }
  auto cert = args.required("cert");
  if (!cert) return tl::unexpected(cert.error());
  auto key = args.required("key");
  if (!key) return tl::unexpected(key.error());
  o.cert_file = *cert;
  o.key_file = *key;
  return ok();
}

Result<Options> read_options(const Args& args) {
  Options o;
  auto ca = read_ca_flags(args);
  if (!ca) return tl::unexpected(ca.error());
  o.ca = *ca;
  if (auto authorization = read_authorization(args, o); !authorization) {
    return tl::unexpected(authorization.error());
  }
  if (!args.positional().empty()) {
    auto serial = revocation::normalize_serial(args.positional()[0]);
    if (!serial) return tl::unexpected(serial.error());
    o.serial = *serial;
  } else if (o.cert_file.empty()) {
    return fail(Errc::invalid_argument, "missing SERIAL: usage: keystep ca revoke SERIAL (or --cert with --key)");
  }
  auto reason_code = read_reason_code(args);
  if (!reason_code) return tl::unexpected(reason_code.error());
  o.reason_code = *reason_code;
  o.reason = args.get("reason");
  return o;
}

// authorized_request returns the client and the "ott" to revoke with; with
// --cert it also fills in or checks the serial.
Result<std::pair<CaClient, std::string>> authorized_request(Options& o) {
  auto roots = read_roots(o.ca.root_file);
  if (!roots) return tl::unexpected(roots.error());
  const CaClient client = CaClient::verified(o.ca.ca_url, *roots);
  if (o.cert_file.empty()) {
    auto token = token_for(o.authorization, {.subject = o.serial,
                                             .audience = endpoint_url(o.ca.ca_url, kRevokeAudiencePath),
                                             .root_sha256 = roots->front().sha256_hex()});
    if (!token) return tl::unexpected(token.error());
    return std::pair{client, *token};
  }
  auto identity = read_client_identity(o.cert_file, o.key_file);
  if (!identity) return tl::unexpected(identity.error());
  const std::string cert_serial = identity->leaf().serial_decimal();
  if (o.serial.empty()) o.serial = cert_serial;
  if (o.serial != cert_serial) {
    return fail(Errc::invalid_argument,
                "the certificate in " + o.cert_file + " has serial number " + cert_serial + ", not " + o.serial);
  }
  return std::pair{identity->presented_by(client), std::string()};
}

int run_ca_revoke(const Args& args) {
  auto options = read_options(args);
  if (!options) return usage_error(ca_revoke_spec(), options.error().message);
  auto request = authorized_request(*options);
  if (!request) return fail_with(request.error().message);
  const auto& [client, ott] = *request;
  const nlohmann::json body = {{"serial", options->serial},
                               {"ott", ott},
                               {"reasonCode", options->reason_code},
                               {"reason", options->reason},
                               {"passive", true}};
  auto response = client.post_json("/1.0/revoke", body);
  if (!response) return fail_with(response.error().message);
  std::cout << "Certificate with serial number " << options->serial << " has been revoked.\n";
  return 0;
}

}  // namespace

Command ca_revoke_command() { return {ca_revoke_spec(), run_ca_revoke}; }

}  // namespace keystep::cli
