// keystep ca renew: renew a certificate for the same key, once or as a
// daemon, as `step ca renew` does: over mTLS with the certificate itself,
// or with a renew token signed by its key (--mtls=false, or once the
// certificate has expired).

#include <signal.h>

#include <iostream>
#include <optional>

#include "cli/ca_client.h"
#include "cli/client_identity.h"
#include "cli/commands.h"
#include "cli/output_file.h"
#include "cli/renew_daemon.h"
#include "cli/renew_token.h"
#include "cli/sign_response.h"
#include "cli/token.h"
#include "issuer/common/duration.h"
#include "issuer/common/file.h"
#include "issuer/crypto/password.h"
#include "issuer/policy/time_format.h"

namespace keystep::cli {
namespace {

CommandSpec ca_renew_spec() {
  return {
      .path = "ca renew",
      .usage = "CRT KEY",
      .summary = "Renew a certificate for the same key",
      .description =
          "Asks the CA for a new certificate like the one in CRT (same names, same lifetime, same key)\n"
          "and saves the new chain, leaf first, over CRT (with --force) or in --out. KEY does not change.\n"
          "The request is authenticated by the certificate itself: over mTLS with CRT and KEY, or, with\n"
          "--mtls=false or once the certificate has expired, by a token signed with KEY that carries\n"
          "the chain (the CA must allow renewal after expiry for that). The CA is verified with --root.\n"
          "\n"
          "With --daemon it keeps running and renews whenever the certificate is due: two thirds into\n"
          "its lifetime, or once only --expires-in is left, or every --renew-period; a little earlier\n"
          "at random so many clients do not renew at once. After each renewal it runs --exec. A failed\n"
          "renewal is logged and retried after 5s, 10s, ... up to 5m. SIGINT or SIGTERM stop it.\n"
          "Without --daemon, --expires-in skips a renewal that is not due yet.\n"
          "\n"
          "Example:\n"
          "  keystep ca renew web.crt web.key --ca-url https://ca.internal:9000 --root root_ca.crt --force\n"
          "\n"
          "As a daemon that reloads nginx after each renewal:\n"
          "  keystep ca renew web.crt web.key --ca-url https://ca.internal:9000 --root root_ca.crt \\\n"
          "      --force --daemon --exec 'systemctl reload nginx'",
      .flags = {ca_url_flag(),
                root_flag(),
                {.name = "out", .help = "FILE to save the new chain in, instead of CRT"},
                force_flag(),
                {.name = "mtls",
                 .help = "authenticate with mTLS; --mtls=false sends a renew token instead",
                 .takes_value = false,
                 .default_value = "true"},
                {.name = "password-file", .help = "FILE whose first line is the password of an encrypted KEY"},
                {.name = "daemon",
                 .help = "keep running and renew whenever the certificate is due",
                 .takes_value = false},
                {.name = "expires-in",
                 .help = "renew once no more than this duration (\"8h\", \"30s\") is left of the certificate",
                 .default_value = "a third of its lifetime"},
                {.name = "renew-period", .help = "with --daemon, renew at least this often (\"1h\")"},
                {.name = "exec", .help = "COMMAND to run with /bin/sh -c after each renewal"}},
      .min_positional = 2,
      .max_positional = 2,
  };
}

struct Options {
  std::string crt_file, key_file, out_file;
  CaFlags ca;
  std::string password_file;
  bool use_mtls = true;
  bool daemon = false;
  RenewDaemonOptions daemon_options;
};

Result<std::optional<std::chrono::seconds>> read_duration_flag(const Args& args, const std::string& flag) {
  if (!args.has(flag)) return std::nullopt;
  const std::string text = args.get(flag);
  auto d = common::parse_duration(text);
  if (!d) return fail(Errc::invalid_argument, "flag --" + flag + ": " + d.error().message);
  if (*d < std::chrono::seconds(1)) {
    return fail(Errc::invalid_argument, "flag --" + flag + ": \"" + text + "\" is shorter than 1s");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Result<Options> read_options(const Args& args) {
  Options o{.crt_file = args.positional()[0], .key_file = args.positional()[1]};
  auto ca = read_ca_flags(args);
  if (!ca) return tl::unexpected(ca.error());
  o.ca = *ca;
  o.out_file = args.has("out") ? args.get("out") : o.crt_file;
  if (!args.has("force") && !args.has("out")) {
    return fail(Errc::invalid_argument, "use --force to overwrite " + o.crt_file + " or --out to write elsewhere");
  }
  o.password_file = args.get("password-file");
  o.use_mtls = args.get_bool("mtls", true);
  o.daemon = args.has("daemon");
  auto expires_in = read_duration_flag(args, "expires-in");
  if (!expires_in) return tl::unexpected(expires_in.error());
  auto renew_period = read_duration_flag(args, "renew-period");
  if (!renew_period) return tl::unexpected(renew_period.error());
  if (*renew_period && !o.daemon) return fail(Errc::invalid_argument, "flag --renew-period needs --daemon");
  o.daemon_options = {.policy = {.expires_in = *expires_in, .renew_period = *renew_period},
                      .exec = args.get("exec")};
  if (args.has("exec") && o.daemon_options.exec.empty()) {
    return fail(Errc::invalid_argument, "flag --exec needs a command");
  }
  return o;
}

Result<ClientIdentity> read_identity(const Options& o) {
  std::optional<crypto::SecretBytes> password;
  if (!o.password_file.empty()) {
    auto read = crypto::read_password_file(o.password_file);
    if (!read) return tl::unexpected(read.error());
    password = std::move(*read);
  }
  return read_client_identity(o.crt_file, o.key_file, password ? &*password : nullptr);
}

// renewal_caller shows the CA who asks: the certificate over mTLS, or a
// renew token when use_mtls is false or the certificate has expired (no TLS
// handshake would accept it).
Result<CaClient> renewal_caller(const CaClient& client, const ClientIdentity& identity, bool use_mtls,
                                common::TimePoint now) {
  if (use_mtls && now < identity.leaf().not_after()) return identity.presented_by(client);
  auto token =
      sign_renew_token(identity.chain, identity.key.get(), endpoint_url(client.ca_url(), kRenewAudiencePath), now);
  if (!token) return tl::unexpected(token.error());
  return client.with_bearer_token(std::move(*token));
}

Result<std::vector<crypto::Certificate>> renew_certificate(const CaClient& client, const ClientIdentity& identity,
                                                           bool use_mtls, common::TimePoint now) {
  auto caller = renewal_caller(client, identity, use_mtls, now);
  if (!caller) return tl::unexpected(caller.error());
  auto response = caller->post_json("/1.0/renew", nlohmann::json::object());
  if (!response) return tl::unexpected(response.error());
  return chain_from_sign_response(*response, identity.key.get());
}

// renew_and_save renews identity's certificate, saves the new chain in
// out_file and keeps it in identity for the next renewal.
Result<crypto::Certificate> renew_and_save(const CaClient& client, ClientIdentity& identity, bool use_mtls,
                                          const std::string& out_file) {
  auto chain = renew_certificate(client, identity, use_mtls, std::chrono::system_clock::now());
  if (!chain) return tl::unexpected(chain.error());
  if (auto written = common::write_file_atomic(out_file, crypto::chain_to_pem(*chain), kPublicFileMode); !written) {
    return tl::unexpected(written.error());
  }
  identity.chain = std::move(*chain);
  return identity.leaf();
}

int run_ca_renew(const Args& args) {
  auto options = read_options(args);
  if (!options) return usage_error(ca_renew_spec(), options.error().message);
  const Options& o = *options;
  if (o.out_file != o.crt_file) {
    if (auto free = refuse_overwrite(o.out_file, args.has("force")); !free) return fail_with(free.error().message);
  }
  auto identity = read_identity(o);
  if (!identity) return fail_with(identity.error().message);
  auto client = CaClient::verified(o.ca);
  if (!client) return fail_with(client.error().message);

  if (o.daemon) {
    auto renew = [&] { return renew_and_save(*client, *identity, o.use_mtls, o.out_file); };
    return run_renew_daemon(identity->leaf(), renew, o.daemon_options);
  }
  const auto& leaf = identity->leaf();
  const auto now = std::chrono::system_clock::now();
  if (o.daemon_options.policy.expires_in && leaf.not_after() - now > *o.daemon_options.policy.expires_in) {
    std::cerr << "The certificate in " << o.crt_file << " is not due for renewal: it expires at "
              << policy::format_rfc3339(leaf.not_after()) << ", later than --expires-in from now.\n";
    return 0;
  }
  auto renewed = renew_and_save(*client, *identity, o.use_mtls, o.out_file);
  if (!renewed) return fail_with(renewed.error().message);
  std::cerr << "Your certificate has been saved in " << o.out_file << ".\n";
  if (!o.daemon_options.exec.empty()) {
    sigset_t no_signals;
    sigemptyset(&no_signals);
    (void)run_exec_hook(o.daemon_options.exec, no_signals);  // no stop signals to watch
  }
  return 0;
}

}  // namespace

Command ca_renew_command() { return {ca_renew_spec(), run_ca_renew}; }

}  // namespace keystep::cli
