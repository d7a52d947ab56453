#pragma once
// The keystep commands. Each is a CommandSpec (flags and help) and a run
// function returning the process exit status. run_cli dispatches argv.

#include <functional>
#include <string>
#include <vector>

#include "cli/args.h"

namespace keystep::cli {

struct Command {
  CommandSpec spec;
  std::function<int(const Args&)> run;
};

// Exit statuses: 0 success, 1 the operation failed, 2 usage error.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

[[nodiscard]] int run_cli(int argc, char** argv);

// fail_with prints "keystep: <message>" to stderr and returns kExitFailure.
int fail_with(const std::string& message);

// usage_error prints "keystep <command path>: <message>" to stderr, as a
// parse error does, and returns kExitUsage. For flags that parse but do not
// make sense ("flag --ca-url: \"http://x\" is not an https:// URL").
int usage_error(const CommandSpec& spec, const std::string& message);

// One factory per command (defined beside each command's code).
Command init_command();
Command serve_command();
Command ca_sign_intermediate_command();
Command ca_certificate_command();
Command ca_token_command();
Command ca_health_command();
Command ca_root_command();
Command ca_provisioners_command();
Command ca_renew_command();
Command ca_revoke_command();
Command ca_crl_command();
Command certificate_fingerprint_command();
Command certificate_inspect_command();
Command crypto_jwk_create_command();
Command bench_sign_command();
Command bench_certificaterequests_command();

}  // namespace keystep::cli
