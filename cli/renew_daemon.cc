#include "cli/renew_daemon.h"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "issuer/common/log.h"
#include "issuer/policy/time_format.h"

extern char** environ;

namespace keystep::cli {
namespace {

// The daemon wakes at least this often to look at the clock again, so a
// suspended machine or a stepped clock delays a renewal by at most this.
constexpr std::chrono::seconds kMaxSleep{60};
// How often run_exec_hook looks whether the command has finished.
constexpr std::chrono::milliseconds kHookPoll{100};

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("renew");
  return logger;
}

double random_fraction() {
  static std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

timespec to_timespec(std::chrono::nanoseconds d) {
  d = std::max(d, std::chrono::nanoseconds::zero());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(d);
  return {static_cast<time_t>(seconds.count()), static_cast<long>((d - seconds).count())};
}

// wait_for_stop_signal waits up to d and returns the stop signal that came,
// or 0.
int wait_for_stop_signal(const sigset_t& stop_signals, std::chrono::nanoseconds d) {
  const timespec timeout = to_timespec(d);
  const int sig = sigtimedwait(&stop_signals, nullptr, &timeout);
  return sig > 0 ? sig : 0;
}

// sleep_until waits until `due` and returns false when a stop signal came.
bool sleep_until(common::TimePoint due, const sigset_t& stop_signals) {
  for (auto now = std::chrono::system_clock::now(); now < due; now = std::chrono::system_clock::now()) {
    const auto wait = std::min<std::chrono::nanoseconds>(due - now, kMaxSleep);
    if (const int sig = wait_for_stop_signal(stop_signals, wait); sig != 0) {
      log()->info("renew daemon stopping signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
      return false;
    }
  }
  return true;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit_status=" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal=" + std::to_string(WTERMSIG(status));
  return "status=" + std::to_string(status);
}

}  // namespace

bool run_exec_hook(const std::string& command, const sigset_t& stop_signals) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  std::string shell = "/bin/sh", dash_c = "-c", script = command;
  char* argv[] = {shell.data(), dash_c.data(), script.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/bin/sh", nullptr, &attributes, argv, environ);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    log()->error("exec command failed to start error=\"{}\"", std::strerror(spawned));
    return true;
  }
  bool keep_running = true;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      log()->info("exec command finished {}", describe_exit(status));
      return keep_running;
    }
    if (done < 0 && errno != EINTR) {
      log()->error("exec command cannot be waited for error=\"{}\"", std::strerror(errno));
      return keep_running;
    }
    if (keep_running && wait_for_stop_signal(stop_signals, kHookPoll) != 0) {
      log()->info("renew daemon stopping: sending SIGTERM to the exec command pid={}", pid);
      kill(pid, SIGTERM);
      keep_running = false;
    } else if (!keep_running) {
      const timespec poll = to_timespec(kHookPoll);
      nanosleep(&poll, nullptr);
    }
  }
}

int run_renew_daemon(crypto::Certificate current, const RenewFunction& renew, const RenewDaemonOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const auto now = std::chrono::system_clock::now();
  auto due = next_renewal(current.not_before(), current.not_after(), now, options.policy, random_fraction());
  log()->info("renew daemon started serial={} not_after={} next_renewal={}", current.serial_decimal(),
              policy::format_rfc3339(current.not_after()), policy::format_rfc3339(due));
  int failures = 0;
  while (sleep_until(due, stop_signals)) {
    auto renewed = renew();
    if (!renewed) {
      const auto delay = retry_delay(++failures, random_fraction());
      due = std::chrono::system_clock::now() + delay;
      log()->error("certificate renewal failed attempt={} retry_in={}s error=\"{}\"", failures,
                   std::chrono::duration_cast<std::chrono::seconds>(delay).count(), renewed.error().message);
      continue;
    }
    failures = 0;
    current = *renewed;
    const auto received_at = std::chrono::system_clock::now();
    due = next_renewal(renewal_start(current.not_before(), received_at), current.not_after(), received_at,
                       options.policy, random_fraction());
    log()->info("certificate renewed serial={} not_after={} next_renewal={}", current.serial_decimal(),
                policy::format_rfc3339(current.not_after()), policy::format_rfc3339(due));
    if (!options.exec.empty() && !run_exec_hook(options.exec, stop_signals)) break;
  }
  log()->info("renew daemon stopped");
  return 0;
}

}  // namespace keystep::cli
