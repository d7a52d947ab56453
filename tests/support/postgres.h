#pragma once
// Test-only (header-only): PostgresServer runs a throwaway PostgreSQL 15 for
// tests, on 127.0.0.1 with a free port and a data dir under /tmp owned by
// an unprivileged user (PostgreSQL refuses to run as root): `postgres`, else
// `nobody`; when the tests themselves are not root, the current user.
// Logins use scram-sha-256 with generated passwords: the superuser
// `postgres` (for the harness) and `keystep` (for the code under test, its
// password in password_file(), so the passwordFile path is exercised).
//
// The constructor throws std::runtime_error with the server log and what to
// install if the server cannot start: tests fail loudly, they never skip.
// The destructor stops the server (immediate shutdown) and removes the dir.
// shared_postgres() is one server per test binary run. Not thread-safe:
// create databases before starting threads.
//
// PostgresServer(Tls::required) serves TLS only (pg_hba `hostssl`), with a
// server certificate for 127.0.0.1 and localhost from its own CA, ca_file():
// a client with sslmode=verify-full and sslrootcert=ca_file() connects, a
// plain connection or one trusting another CA is refused.

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <grp.h>
#include <libpq-fe.h>

#include "issuer/storage/postgres_ptr.h"
#include "tests/support/process.h"

namespace keystep::testing {

inline constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

class PostgresServer {
 public:
  enum class Tls { off, required };

  explicit PostgresServer(Tls tls = Tls::off) : tls_(tls == Tls::required) {
    namespace fs = std::filesystem;
    if (!fs::exists(fs::path(kPostgresBin) / "initdb") || !fs::exists(fs::path(kPostgresBin) / "postgres")) {
      throw std::runtime_error(std::string("PostgreSQL 15 not found in ") + kPostgresBin +
                               ": apt-get install postgresql-15");
    }
    pick_user();
    std::string tmpl = (fs::temp_directory_path() / "keystep-pg-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    base_ = tmpl;
    give_to_user(base_);
    superuser_password_ = random_password();
    keystep_password_ = random_password();
    write_file(base_ / "superuser.pw", superuser_password_ + "\n");
    give_to_user(base_ / "superuser.pw");
    write_file(password_file(), keystep_password_ + "\n");
    port_ = free_loopback_port();
    try {
      run_as_user({bin("initdb"), "-D", data_dir().string(), "-U", "postgres", "--auth=scram-sha-256",
                   "--pwfile=" + (base_ / "superuser.pw").string(), "--encoding=UTF8", "--locale=C", "--no-sync"},
                  /*wait=*/true);
      if (tls_) make_tls();
      start();
      admin_exec("postgres", "CREATE ROLE keystep LOGIN PASSWORD '" + keystep_password_ + "'");
    } catch (...) {
      // No destructor runs for a half-built object: clean up here.
      stop();
      std::error_code ignored;
      std::filesystem::remove_all(base_, ignored);
      throw;
    }
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  ~PostgresServer() {
    stop();
    std::error_code ignored;  // best effort: a leftover dir in /tmp is harmless
    std::filesystem::remove_all(base_, ignored);
  }

  // start runs the server on the same port and data dir and waits (up to
  // 20 s) until it accepts connections.
  void start() {
    if (pid_ > 0) return;
    std::vector<std::string> args = {bin("postgres"), "-D", data_dir().string(), "-k", base_.string(), "-h",
                                     "127.0.0.1", "-p", std::to_string(port_), "-c", "fsync=off", "-c",
                                     "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=16MB"};
    if (tls_) {
      args.insert(args.end(), {"-c", "ssl=on", "-c", "ssl_cert_file=" + (base_ / "server.crt").string(), "-c",
                               "ssl_key_file=" + (base_ / "server.key").string()});
    }
    pid_ = run_as_user(args, /*wait=*/false);
    std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (PQping(ping.c_str()) != PQPING_OK) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw failure("postgres exited while starting");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw failure("postgres did not accept connections within 20 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // stop shuts the server down at once (SIGQUIT: immediate shutdown).
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGQUIT);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  [[nodiscard]] int port() const { return port_; }
  // password_file holds the password of the `keystep` role.
  [[nodiscard]] std::filesystem::path password_file() const { return base_ / "keystep.pw"; }
  [[nodiscard]] const std::string& keystep_password() const { return keystep_password_; }
  [[nodiscard]] std::filesystem::path base_dir() const { return base_; }
  // ca_file is the CA of the server's TLS certificate (Tls::required only).
  [[nodiscard]] std::filesystem::path ca_file() const { return base_ / "ca.crt"; }

  // dsn is a libpq DSN for `dbname` as the keystep role, without password;
  // with a schema, its tables live there (search_path).
  [[nodiscard]] std::string dsn(const std::string& dbname, const std::string& schema = "") const {
    std::string out = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=keystep";
    if (!schema.empty()) out += " options='-c search_path=" + schema + "'";
    return out;
  }

  // create_database makes a fresh database owned by keystep; returns its name.
  std::string create_database() {
    static std::atomic<int> counter{0};
    std::string name = "keystep_test_" + std::to_string(++counter);
    admin_exec("postgres", "CREATE DATABASE " + name + " OWNER keystep");
    return name;
  }

  // create_schema makes a fresh schema owned by keystep in `dbname`; returns
  // its name. Far cheaper than a database (about 10 ms against 300 ms).
  std::string create_schema(const std::string& dbname) {
    static std::atomic<int> counter{0};
    std::string name = "keystep_schema_" + std::to_string(++counter);
    admin_exec(dbname, "CREATE SCHEMA " + name + " AUTHORIZATION keystep");
    return name;
  }

  // admin_exec runs SQL (no parameters) as the superuser; throws on error.
  void admin_exec(const std::string& dbname, const std::string& sql) const { (void)admin_query(dbname, sql); }

  // admin_query runs SQL as the superuser and returns the rows, each value
  // as text ("" for NULL); throws on error.
  std::vector<std::vector<std::string>> admin_query(const std::string& dbname, const std::string& sql) const {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname +
                           " user=postgres connect_timeout=5";
    const char* keywords[] = {"dbname", "password", nullptr};
    const char* values[] = {conninfo.c_str(), superuser_password_.c_str(), nullptr};
    storage::PgConnPtr conn(PQconnectdbParams(keywords, values, 1));
    std::string error;
    std::vector<std::vector<std::string>> rows;
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      error = PQerrorMessage(conn.get());
    } else {
      storage::PgResultPtr result(PQexec(conn.get(), sql.c_str()));
      ExecStatusType status = PQresultStatus(result.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(result.get());
      for (int r = 0; error.empty() && r < PQntuples(result.get()); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(result.get()); ++c) row.emplace_back(PQgetvalue(result.get(), r, c));
        rows.push_back(std::move(row));
      }
    }
    if (!error.empty()) throw std::runtime_error("test postgres: " + sql + ": " + error);
    return rows;
  }

 private:
  [[nodiscard]] std::filesystem::path data_dir() const { return base_ / "data"; }
  [[nodiscard]] std::filesystem::path log_file() const { return base_ / "server.log"; }
  static std::string bin(const char* name) { return std::string(kPostgresBin) + "/" + name; }

  void pick_user() {
    if (geteuid() != 0) {
      uid_ = geteuid();
      gid_ = getegid();
      return;
    }
    for (const char* name : {"postgres", "nobody"}) {
      if (const passwd* pw = getpwnam(name)) {
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
        return;
      }
    }
    throw std::runtime_error("no unprivileged user (postgres or nobody) to run the test PostgreSQL as");
  }

  void give_to_user(const std::filesystem::path& path) const {
    if (geteuid() == 0 && chown(path.c_str(), uid_, gid_) != 0) {
      throw std::runtime_error("chown " + path.string() + " failed");
    }
  }

  static void write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  static std::string random_password() { return random_hex(16); }



  // run_as_user forks and execs argv as the unprivileged user, output
  // appended to the server log. wait: returns 0 after a successful exit
  // (throws otherwise); else returns the pid. The child gets SIGQUIT if
  // this process dies, so a crashed test leaves no server behind.
  pid_t run_as_user(const std::vector<std::string>& args, bool wait) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int log = open(log_file().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) throw std::runtime_error("cannot open " + log_file().string());
    pid_t parent = getpid();
    bool is_root = geteuid() == 0;
    std::string dir = base_.string();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      int null_in = open("/dev/null", O_RDONLY);
      if (null_in >= 0) dup2(null_in, STDIN_FILENO);
      if (is_root && (setgroups(0, nullptr) != 0 || setgid(gid_) != 0 || setuid(uid_) != 0)) _exit(126);
      prctl(PR_SET_PDEATHSIG, SIGQUIT);  // after setuid, which clears it
      if (getppid() != parent) _exit(125);
      if (chdir(dir.c_str()) != 0) _exit(124);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(log);
    if (pid < 0) throw std::runtime_error("fork failed");
    if (!wait) return pid;
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw failure(args[0] + " failed");
    return 0;
  }

  // make_tls writes a CA and a server certificate for 127.0.0.1 and localhost
  // (as the server's user, so the key is its own, mode 0600) and lets only
  // TLS connections in.
  void make_tls() {
    // `openssl req` with a new P-256 key, unencrypted, and the extra arguments
    const auto new_key_req = [&](std::vector<std::string> extra) {
      std::vector<std::string> args = {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt",
                                       "ec_paramgen_curve:P-256", "-nodes"};
      args.insert(args.end(), extra.begin(), extra.end());
      run_as_user(args, /*wait=*/true);
    };
    new_key_req({"-x509", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Keystep test PostgreSQL CA"});
    new_key_req({"-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", "-addext",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    run_as_user({"/usr/bin/openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-copy_extensions", "copy", "-days", "2", "-out", "server.crt"},
                /*wait=*/true);
    run_as_user({"/bin/chmod", "600", "server.key"}, /*wait=*/true);
    const auto hba = data_dir() / "pg_hba.conf";
    std::ifstream in(hba);
    std::string text, line;
    while (std::getline(in, line)) {
      if (line.starts_with("host ")) line = "hostssl " + line.substr(5);
      text += line + "\n";
    }
    in.close();
    std::ofstream(hba, std::ios::trunc) << text;  // rewritten in place: still the server user's file
  }

  [[nodiscard]] std::runtime_error failure(const std::string& what) const {
    std::ifstream in(log_file());
    std::stringstream log;
    log << in.rdbuf();
    return std::runtime_error("test PostgreSQL 15 could not start (" + what +
                              "); it needs postgresql-15 installed (apt-get install postgresql-15) and the user "
                              "postgres or nobody. Server log:\n" + log.str());
  }

  bool tls_ = false;
  std::filesystem::path base_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string superuser_password_;
  std::string keystep_password_;
};

// shared_postgres is the one server of this test binary run, started on
// first use and stopped at exit.
inline PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

}  // namespace keystep::testing
