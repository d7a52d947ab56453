#pragma once
// run_renew_daemon keeps a certificate fresh, for `keystep ca renew
// --daemon`: it waits until next_renewal() says the current certificate is
// due, calls renew (which asks the CA and saves the new chain), runs the
// --exec command, and starts over with the new certificate. A failed
// renewal is logged with the time and retried after retry_delay(); the
// daemon never gives up, as the CA may come back before the certificate
// expires (and an expired one is renewed with a token). A failing --exec
// command is logged, never fatal.
//
// It stops and returns 0 on SIGINT or SIGTERM, also while it waits for the
// --exec command (which then gets SIGTERM). It blocks both signals in the
// calling thread and waits for them with sigtimedwait, so call it from the
// main thread before starting any other. Logs to the "renew" logger
// (stderr, UTC timestamps); never logs keys or tokens.

#include <signal.h>

#include <functional>
#include <string>

#include "cli/renew_schedule.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"

namespace keystep::cli {

struct RenewDaemonOptions {
  RenewalPolicy policy;
  std::string exec;  // run with /bin/sh -c after each renewal; "" for none
};

// RenewFunction renews the certificate once and returns the new leaf.
using RenewFunction = std::function<Result<crypto::Certificate>()>;

[[nodiscard]] int run_renew_daemon(crypto::Certificate current, const RenewFunction& renew,
                                   const RenewDaemonOptions& options);

// run_exec_hook runs command with /bin/sh -c and waits for it, and returns
// false when a stop signal in stop_signals arrived meanwhile (the command is
// sent SIGTERM and still waited for). The command gets the signals
// unblocked. Its exit status is logged.
[[nodiscard]] bool run_exec_hook(const std::string& command, const sigset_t& stop_signals);

}  // namespace keystep::cli
