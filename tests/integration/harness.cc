#include "tests/integration/harness.h"

#include <algorithm>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Polling interval of every bounded wait below.
constexpr std::chrono::milliseconds kPollInterval{10};

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Writes to a pipe whose reader has exited must fail with EPIPE, not kill
// the test; children get the default disposition back before exec.
void ignore_sigpipe_once() {
  static const bool done = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// wait_exit reaps pid, waiting at most timeout; nullopt if still running.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Argv is an execvp argument vector whose strings outlive the fork.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) : strings(args) {
    for (auto& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

// environment_with is this process's environment with `changes` applied
// (an empty value removes the variable), as execve's envp strings.
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& changes) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    const bool changed = std::any_of(changes.begin(), changes.end(), [&](const auto& c) { return c.first == name; });
    if (!changed) out.push_back(std::move(entry));
  }
  for (const auto& [name, value] : changes) {
    if (!value.empty()) out.push_back(name + "=" + value);
  }
  return out;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" \"'") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

}  // namespace

// ---- TempDir ---------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      (base != nullptr && *base != '\0' ? std::string(base) : std::string("/tmp")) + "/keystep-it-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw HarnessError(errno_text("mkdtemp"));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // best effort: a leftover temp dir fails no test
}

// ---- run -------------------------------------------------------------------

std::string RunResult::describe() const {
  std::ostringstream s;
  s << "exit code " << exit_code << (timed_out ? " (killed after the timeout)" : "") << "\n--- stdout ---\n"
    << out << "\n--- stderr ---\n"
    << err;
  return s.str();
}

RunResult run(const std::vector<std::string>& argv, std::string_view stdin_text, std::chrono::seconds timeout) {
  if (argv.empty()) throw HarnessError("run: empty argv");
  ignore_sigpipe_once();
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw HarnessError(errno_text("pipe2"));
  }
  Argv args(argv);
  pid_t pid = fork();
  if (pid < 0) throw HarnessError(errno_text("fork"));
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execvp(args.pointers[0], args.pointers.data());
    const char* msg = "exec failed: ";
    (void)!write(STDERR_FILENO, msg, std::strlen(msg));
    (void)!write(STDERR_FILENO, args.pointers[0], std::strlen(args.pointers[0]));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);

  RunResult result;
  std::size_t written = 0;
  int stdin_fd = in[1];
  if (stdin_text.empty()) {
    close(stdin_fd);
    stdin_fd = -1;
  } else {
    fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
  }
  int fds[2] = {out[0], err[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  const auto deadline = Clock::now() + timeout;
  while (fds[0] >= 0 || fds[1] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p[3];
    nfds_t n = 0;
    for (int fd : fds) {
      if (fd >= 0) p[n++] = {fd, POLLIN, 0};
    }
    if (stdin_fd >= 0) p[n++] = {stdin_fd, POLLOUT, 0};
    int ready = poll(p, n, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) throw HarnessError(errno_text("poll"));
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (p[i].revents == 0) continue;
      if (p[i].fd == stdin_fd) {
        ssize_t w = write(stdin_fd, stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = stdin_text.size();  // reader gone
        if (written == stdin_text.size()) {
          close(stdin_fd);
          stdin_fd = -1;
        }
        continue;
      }
      for (int k = 0; k < 2; ++k) {
        if (p[i].fd != fds[k]) continue;
        char buf[8192];
        ssize_t r = read(fds[k], buf, sizeof buf);
        if (r > 0) {
          sinks[k]->append(buf, static_cast<std::size_t>(r));
        } else if (r == 0 || errno != EINTR) {
          close(fds[k]);
          fds[k] = -1;
        }
      }
    }
  }
  for (int fd : {fds[0], fds[1], stdin_fd}) {
    if (fd >= 0) close(fd);
  }
  // Output is closed (or the child was killed): it exits promptly now.
  auto status = wait_exit(pid, std::chrono::seconds(10));
  if (!status) {
    kill(pid, SIGKILL);
    status = wait_exit(pid, std::chrono::seconds(10));
    result.timed_out = true;
  }
  result.exit_code = status.value_or(-1);
  if (result.timed_out) result.err += "\n[harness: " + join_command(argv) + " did not finish in time]";
  return result;
}

fs::path keystep_bin() {
  const char* bin = std::getenv("KEYSTEP_BIN");
  if (bin == nullptr || *bin == '\0') {
    throw HarnessError("KEYSTEP_BIN is not set: run these tests through ctest, or export KEYSTEP_BIN=<build>/keystep");
  }
  if (access(bin, X_OK) != 0) {
    throw HarnessError(std::string("KEYSTEP_BIN=") + bin + " is not an executable file: build the keystep target");
  }
  return bin;
}

RunResult keystep(const std::vector<std::string>& args, std::string_view stdin_text, std::chrono::seconds timeout) {
  std::vector<std::string> argv{keystep_bin().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdin_text, timeout);
}

// ---- ServerProcess ---------------------------------------------------------

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  if (options_.log_file.empty()) options_.log_file = options_.config.parent_path() / "server.log";
  std::vector<std::string> argv{keystep_bin().string(), "serve", "--config", options_.config.string()};
  if (!options_.password_file.empty()) {
    argv.push_back("--password-file");
    argv.push_back(options_.password_file.string());
  }
  argv.push_back("--address");
  argv.push_back("127.0.0.1:0");
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  int log_fd = open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw HarnessError(errno_text(("open " + options_.log_file.string()).c_str()));
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  Argv args(argv);
  Argv envp(environment_with(options_.env));
  pid_ = fork();
  if (pid_ < 0) throw HarnessError(errno_text("fork"));
  if (pid_ == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(args.pointers[0], args.pointers.data(), envp.pointers.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);

  const std::string marker = "server listening address=127.0.0.1:";
  const auto deadline = Clock::now() + kStartTimeout;
  for (;;) {
    const std::string text = log();
    if (auto at = text.find(marker); at != std::string::npos) {
      std::size_t i = at + marker.size();
      unsigned long port = 0;
      std::size_t digits = 0;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) port = port * 10 + (text[i] - '0');
      if (digits > 0 && i < text.size() && port > 0 && port < 65536) {  // the whole number is written
        port_ = static_cast<unsigned short>(port);
        return;
      }
    }
    if (auto status = wait_exit(pid_, std::chrono::milliseconds(0))) {
      pid_ = -1;
      throw HarnessError("keystep serve exited with status " + std::to_string(*status) +
                         " before listening; its log:\n" + log());
    }
    if (Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      (void)wait_exit(pid_, kStopTimeout);
      pid_ = -1;
      throw HarnessError("keystep serve did not log \"" + marker + "<port>\" within " +
                         std::to_string(kStartTimeout.count()) + " s; its log:\n" + log());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  try {
    (void)stop(SIGTERM);
  } catch (const HarnessError&) {
    // stop() killed and reaped it; a destructor cannot fail the test.
  }
}

std::string ServerProcess::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::log() const {
  std::ifstream in(options_.log_file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t ServerProcess::count(std::string_view needle) const {
  const std::string text = log();
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

int ServerProcess::stop(int sig) {
  if (pid_ <= 0) throw HarnessError("the server is not running");
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, sig);
  if (auto status = wait_exit(pid, kStopTimeout)) return *status;
  kill(pid, SIGKILL);
  (void)wait_exit(pid, kStopTimeout);
  throw HarnessError("keystep serve did not exit within " + std::to_string(kStopTimeout.count()) + " s of signal " +
                     std::to_string(sig) + "; its log:\n" + log());
}

std::string without_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// ---- files -----------------------------------------------------------------

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HarnessError("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw HarnessError("cannot write " + path.string());
}

}  // namespace keystep::integration
