#pragma once
// The integration harness: runs the real `keystep` binary (and openssl,
// curl) as child processes, the way a user's shell would, with no shell in
// between. It depends on nothing but POSIX and the standard library.
//
// Failures of the harness itself (KEYSTEP_BIN unset, a server that never
// comes up) throw HarnessError, whose message carries what went wrong and
// the server log, so the test fails with everything needed to debug it.
// Nothing here is thread-safe; a test drives its processes from one thread.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keystep::integration {

struct HarnessError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// TempDir is a fresh directory under $TMPDIR (or /tmp), removed with all it
// holds when the TempDir is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  bool timed_out = false;
  std::string out;
  std::string err;

  // describe renders the command's outcome for a failure message.
  [[nodiscard]] std::string describe() const;
};

inline constexpr std::chrono::seconds kRunTimeout{60};

// run starts argv[0] (found on PATH unless it holds a '/') with argv, feeds
// it stdin_text, and collects stdout and stderr until it exits. A process
// still running after `timeout` is killed with SIGKILL (timed_out is set).
[[nodiscard]] RunResult run(const std::vector<std::string>& argv, std::string_view stdin_text = "",
                            std::chrono::seconds timeout = kRunTimeout);

// keystep_bin is $KEYSTEP_BIN; throws HarnessError if it is unset or not an
// executable file.
[[nodiscard]] std::filesystem::path keystep_bin();

// keystep runs the keystep binary with args.
[[nodiscard]] RunResult keystep(const std::vector<std::string>& args, std::string_view stdin_text = "",
                                std::chrono::seconds timeout = kRunTimeout);

// ServerProcess runs `keystep serve --config C [--password-file F]
// --address 127.0.0.1:0` with stdout and stderr appended to log_file, and
// waits (at most kStartTimeout) for its "server listening
// address=127.0.0.1:<port>" line. The constructor throws HarnessError with
// the log when the server exits first or never logs that line. The
// destructor stops a running server with SIGTERM (SIGKILL if it has not
// exited after kStopTimeout) and reaps it.
class ServerProcess {
 public:
  static constexpr std::chrono::seconds kStartTimeout{10};
  static constexpr std::chrono::seconds kStopTimeout{10};

  struct Options {
    std::filesystem::path config;
    std::filesystem::path password_file;  // empty: no --password-file
    std::filesystem::path log_file;       // empty: server.log beside the config
    std::vector<std::string> extra_args;  // more flags: {"--kubernetes", "--kubeconfig", F}
    // env changes the server's environment: each NAME is set to VALUE, or
    // removed when VALUE is empty; the rest is inherited.
    std::vector<std::pair<std::string, std::string>> env;
  };

  explicit ServerProcess(Options options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] std::string url() const;  // https://127.0.0.1:<port>
  [[nodiscard]] pid_t pid() const { return pid_; }
  // log is everything the server wrote so far.
  [[nodiscard]] std::string log() const;
  // count is how often needle occurs in the log, e.g. "certificate issued".
  [[nodiscard]] std::size_t count(std::string_view needle) const;

  // stop sends sig and waits at most kStopTimeout for the server to exit;
  // returns its exit status (128 + signal when a signal ended it). Throws
  // HarnessError if it does not exit in time (it is then killed).
  int stop(int sig);

 private:
  Options options_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// without_trailing_newlines drops the line breaks a command printed last.
[[nodiscard]] std::string without_trailing_newlines(std::string text);

// Small file helpers that throw HarnessError on failure.
[[nodiscard]] std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, std::string_view text);

}  // namespace keystep::integration
