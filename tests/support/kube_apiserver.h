#pragma once
// Test-only (header-only, but it runs commands through
// tests/integration/harness.h, so link harness.cc): KubeApiServer runs a
// throwaway etcd 3.4 and kube-apiserver 1.20 for tests, envtest style, on
// 127.0.0.1 with free ports and everything under one temp dir.
//
// It serves what the operator needs and nothing runs behind it (no
// controller-manager, no scheduler): CRDs with status subresources, watches,
// Leases, Events, TokenRequest (`kubectl create token`), TokenReview and the
// service-account issuer's /openid/v1/jwks. Clients authenticate with a
// static token (admin_token(): user "admin" in system:masters;
// alice_token(): user "alice", no groups and no role bound, so RBAC grants
// her only what every authenticated user gets: discovery and can-i) or with
// a client certificate from issue_client_cert(). Authorization is RBAC.
//
// The binary is $KEYSTEP_KUBE_APISERVER, else the cache of
// hack/kube-apiserver.sh. The constructor throws std::runtime_error with
// both logs and what to install or run when the servers cannot start: tests
// fail loudly, they never skip. The destructor kills both servers and
// removes the dirs. The servers die with the process that started them
// (PR_SET_PDEATHSIG), so construct on the thread that outlives the tests.
// shared_kube_apiserver() is one server per test binary run (ctest runs
// each test case as its own process, so each pays the startup: about 5 s on
// 2 cores, plus about 2.5 s for apply_crds()). Not thread-safe.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/process.h"

namespace keystep::testing {

inline constexpr const char* kKubeApiServerVersion = "1.20.2";
inline constexpr const char* kKubeApiServerCache = "/var/cache/keystep/kube-apiserver-1.20.2/kube-apiserver";
inline constexpr const char* kEtcdBin = "/usr/bin/etcd";
inline constexpr const char* kKubectlBin = "/usr/bin/kubectl";
inline constexpr const char* kServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local";

// KubeClientCert is a client certificate and its key, signed by the CA the
// kube-apiserver trusts for clients (--client-ca-file).
struct KubeClientCert {
  std::filesystem::path cert;
  std::filesystem::path key;
};

class KubeApiServer {
 public:
  static constexpr std::chrono::seconds kStartTimeout{60};
  static constexpr int kStartAttempts = 3;  // a free port can be taken before we bind it

  KubeApiServer() {
    namespace fs = std::filesystem;
    const auto started = std::chrono::steady_clock::now();
    binary_ = find_binary();
    if (!fs::exists(kEtcdBin)) {
      throw std::runtime_error(std::string("etcd not found at ") + kEtcdBin +
                               ": apt-get install etcd-server (hack/kube-apiserver.sh installs it)");
    }
    if (access(kKubectlBin, X_OK) != 0) {
      throw std::runtime_error(std::string("kubectl not found at ") + kKubectlBin +
                               ": install kubectl 1.24 or later (Debian's kubernetes-client 1.20 has no "
                               "`create token` and no `patch --subresource`)");
    }
    etcd_dir_ = make_etcd_dir();
    try {
      admin_token_ = random_hex(32);
      alice_token_ = random_hex(32);
      for (int attempt = 1;; ++attempt) {
        // etcd first: it starts while openssl makes the keys.
        start_etcd();
        if (attempt == 1) make_pki();
        std::string exited;
        if (!wait_etcd()) {
          exited = "etcd exited while starting";
        } else if (!start_apiserver()) {
          exited = "kube-apiserver exited while starting";
        } else {
          break;
        }
        stop();
        if (attempt == kStartAttempts || !lost_port_race()) throw failure(exited);
      }
      write_kubeconfig(kubeconfig_path(), admin_token_);
    } catch (...) {
      // No destructor runs for a half-built object: clean up here.
      stop();
      remove_dirs();
      throw;
    }
    startup_time_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  }

  KubeApiServer(const KubeApiServer&) = delete;
  KubeApiServer& operator=(const KubeApiServer&) = delete;

  ~KubeApiServer() {
    stop();
    remove_dirs();
  }

  // server_url is https://127.0.0.1:<port>.
  [[nodiscard]] std::string server_url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int port() const { return port_; }
  // ca_pem is the CA of the serving certificate (ca_path() holds it).
  [[nodiscard]] std::string ca_pem() const { return integration::read_text(ca_path()); }
  [[nodiscard]] std::filesystem::path ca_path() const { return dir_ / "serving-ca.crt"; }
  [[nodiscard]] const std::string& admin_token() const { return admin_token_; }
  [[nodiscard]] const std::string& alice_token() const { return alice_token_; }
  // kubeconfig_path is the admin kubeconfig (server, CA data, admin token).
  [[nodiscard]] std::filesystem::path kubeconfig_path() const { return dir_ / "admin.kubeconfig"; }
  // The service-account token issuer (also the API audience) and the public
  // half of its signing key (RSA 2048, RS256).
  [[nodiscard]] std::string service_account_issuer() const { return kServiceAccountIssuer; }
  [[nodiscard]] std::filesystem::path service_account_public_key_path() const { return dir_ / "sa.pub"; }
  // The CA the server trusts for client certificates, key included.
  [[nodiscard]] std::filesystem::path client_ca_path() const { return dir_ / "client-ca.crt"; }
  [[nodiscard]] std::filesystem::path client_ca_key_path() const { return dir_ / "client-ca.key"; }
  [[nodiscard]] const std::filesystem::path& base_dir() const { return dir_.path(); }
  // startup_time is how long the constructor took.
  [[nodiscard]] std::chrono::milliseconds startup_time() const { return startup_time_; }
  [[nodiscard]] std::string apiserver_log() const { return tail(dir_ / "kube-apiserver.log", 1 << 20); }
  [[nodiscard]] std::string etcd_log() const { return tail(dir_ / "etcd.log", 1 << 20); }

  // restart_apiserver kills kube-apiserver (SIGKILL: every watch breaks at
  // once) and starts a new one on the same port over the same etcd. Its
  // watch cache starts at etcd's current revision, so a client resuming a
  // watch from before the restart gets 410 Gone and must relist. Throws
  // std::runtime_error if it does not come back.
  void restart_apiserver() {
    kill(apiserver_pid_, SIGKILL);
    int status = 0;
    waitpid(apiserver_pid_, &status, 0);
    apiserver_pid_ = -1;
    if (!start_apiserver(port_)) throw failure("kube-apiserver exited while restarting");
  }

  // write_kubeconfig writes a kubeconfig for this server that authenticates
  // with `token` (or with a client certificate); returns path.
  std::filesystem::path write_kubeconfig(const std::filesystem::path& path, const std::string& token) const {
    integration::write_text(path, kubeconfig_yaml("    token: " + token + "\n"));
    return path;
  }
  // write_impersonating_kubeconfig authenticates as the admin and acts as
  // `user` (kubeconfig `as:`), e.g. system:serviceaccount:<ns>:<name>: RBAC
  // then judges every request as that user's.
  std::filesystem::path write_impersonating_kubeconfig(const std::filesystem::path& path, const std::string& user) const {
    integration::write_text(path, kubeconfig_yaml("    token: " + admin_token_ + "\n    as: " + user + "\n"));
    return path;
  }
  std::filesystem::path write_kubeconfig(const std::filesystem::path& path, const KubeClientCert& cert) const {
    integration::write_text(path, kubeconfig_yaml("    client-certificate: " + cert.cert.string() +
                                                  "\n    client-key: " + cert.key.string() + "\n"));
    return path;
  }

  // issue_client_cert makes an EC key and a client certificate for `user`
  // (CN) in `groups` (O), valid for two days, under base_dir().
  KubeClientCert issue_client_cert(const std::string& user, const std::vector<std::string>& groups = {}) {
    std::string subject;
    for (const auto& g : groups) subject += "/O=" + g;
    subject += "/CN=" + user;
    std::string stem = "client-" + std::to_string(++client_certs_);
    KubeClientCert out{dir_ / (stem + ".crt"), dir_ / (stem + ".key")};
    sign_cert("client", subject, out.cert, out.key, client_ca_path(), client_ca_key_path());
    return out;
  }

  // kubectl runs /usr/bin/kubectl --kubeconfig <admin kubeconfig> args...
  // (add "--token", alice_token() to act as alice). Its discovery cache is
  // per server, so a port reused by another test run never sees stale types.
  [[nodiscard]] integration::RunResult kubectl(const std::vector<std::string>& args, const std::string& stdin_text = "",
                                               std::chrono::seconds timeout = integration::kRunTimeout) const {
    std::vector<std::string> argv{kKubectlBin, "--kubeconfig", kubeconfig_path().string(),
                                  "--cache-dir", (dir_ / "kubectl-cache").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return integration::run(argv, stdin_text, timeout);
  }

  // request sends one HTTP request to the API with curl, authenticated
  // with `token` (the admin's when empty); out is the response body and
  // exit_code is 0 only for a 2xx answer (curl exits 22 otherwise).
  [[nodiscard]] integration::RunResult request(const std::string& method, const std::string& path,
                                               const std::string& body = "", const std::string& token = "") const {
    std::vector<std::string> argv{"curl", "-sS", "--fail-with-body", "--max-time", "10", "--cacert",
                                  ca_path().string(), "-X", method, "-H",
                                  "Authorization: Bearer " + (token.empty() ? admin_token_ : token)};
    if (!body.empty()) {
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
    }
    argv.push_back(server_url() + path);
    return integration::run(argv, body);
  }

  // create_token returns a token of service account ns/name for `audience`
  // from TokenRequest (what `kubectl create token` does, with no kubectl
  // version needed); lifetime is at least 10 minutes (the server refuses
  // less). Throws std::runtime_error if the server refuses.
  [[nodiscard]] std::string create_token(const std::string& ns, const std::string& name, const std::string& audience,
                                         std::chrono::seconds lifetime = std::chrono::minutes(10)) const {
    nlohmann::json body = {{"apiVersion", "authentication.k8s.io/v1"},
                           {"kind", "TokenRequest"},
                           {"spec", {{"audiences", nlohmann::json::array({audience})}, {"expirationSeconds", lifetime.count()}}}};
    auto r = request("POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name + "/token", body.dump());
    must(r, "TokenRequest for " + ns + "/" + name);
    return nlohmann::json::parse(r.out).at("status").at("token").get<std::string>();
  }

  // apply_file runs `kubectl apply -f path` (a file or a directory of
  // YAML); throws std::runtime_error with kubectl's output on failure.
  void apply_file(const std::filesystem::path& path) const { must(kubectl({"apply", "-f", path.string()}), "apply"); }

  // apply_crds applies cert-manager's CRDs (<shared>/testdata/
  // cert-manager-crds) and, when the dir exists, Keystep's (<source>/crds),
  // then waits until every CRD is Established. The source tree is
  // $KEYSTEP_SOURCE_DIR, else the one this test binary was built from; the
  // shared dir is <source>/../shared. Once per server: later calls return.
  void apply_crds() {
    namespace fs = std::filesystem;
    if (crds_applied_) return;
    fs::path source = source_dir();
    fs::path cert_manager = source.parent_path() / "shared" / "testdata" / "cert-manager-crds";
    if (!fs::is_directory(cert_manager)) {
      throw std::runtime_error("cert-manager CRDs not found at " + cert_manager.string() +
                               ": the shared/ dir must sit beside the source tree");
    }
    std::vector<std::string> args{"apply", "-f", cert_manager.string()};
    fs::path own = source / "crds";
    if (fs::is_directory(own) && has_yaml(own)) {
      args.push_back("-f");
      args.push_back(own.string());
    }
    must(kubectl(args), "apply CRDs");
    must(kubectl({"wait", "--for", "condition=Established", "--timeout", "60s", "crd", "--all"},
                 "", std::chrono::seconds(70)),
         "wait for CRDs");
    crds_applied_ = true;
  }

  // source_dir is $KEYSTEP_SOURCE_DIR, else the source tree this test
  // binary was built from (KEYSTEP_SOURCE_DIR, a compile definition).
  static std::filesystem::path source_dir() {
    const char* env = std::getenv("KEYSTEP_SOURCE_DIR");
    if (env != nullptr && *env != '\0') return env;
#ifdef KEYSTEP_SOURCE_DIR
    return KEYSTEP_SOURCE_DIR;
#else
    throw std::runtime_error("KEYSTEP_SOURCE_DIR is not set and this test binary was built without it");
#endif
  }

 private:
  static std::filesystem::path find_binary() {
    namespace fs = std::filesystem;
    const char* env = std::getenv("KEYSTEP_KUBE_APISERVER");
    fs::path bin = env != nullptr && *env != '\0' ? fs::path(env) : fs::path(kKubeApiServerCache);
    if (!fs::exists(bin) || access(bin.c_str(), X_OK) != 0) {
      throw std::runtime_error("kube-apiserver " + std::string(kKubeApiServerVersion) + " not found at " +
                               bin.string() + (env != nullptr && *env != '\0' ? " ($KEYSTEP_KUBE_APISERVER)" : "") +
                               ": run hack/kube-apiserver.sh (it builds and caches it, about 6 minutes) and "
                               "export KEYSTEP_KUBE_APISERVER=<the path it prints>");
    }
    return bin;
  }

  static bool has_yaml(const std::filesystem::path& dir) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      auto ext = entry.path().extension();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") return true;
    }
    return false;
  }

  // etcd's data lives on tmpfs when there is one: etcd 3.4 has no
  // --unsafe-no-fsync, and an fsync on tmpfs is free.
  std::filesystem::path make_etcd_dir() const {
    namespace fs = std::filesystem;
    fs::path base = fs::is_directory("/dev/shm") && access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : dir_.path();
    std::string tmpl = (base / "keystep-etcd-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    return tmpl;
  }

  void remove_dirs() {
    std::error_code ignored;  // best effort: a leftover dir is harmless
    if (!etcd_dir_.empty()) std::filesystem::remove_all(etcd_dir_, ignored);
  }

  void make_pki() {
    integration::write_text(dir_ / "openssl.cnf", R"([req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
)");
    make_ca("/CN=keystep-test-kube-serving-ca", ca_path(), dir_ / "serving-ca.key");
    sign_cert("server", "/CN=kube-apiserver", dir_ / "serving.crt", dir_ / "serving.key", ca_path(),
              dir_ / "serving-ca.key");
    make_ca("/CN=keystep-test-kube-client-ca", client_ca_path(), client_ca_key_path());
    openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", (dir_ / "sa.key").string()});
    openssl({"pkey", "-in", (dir_ / "sa.key").string(), "-pubout", "-out", service_account_public_key_path().string()});
    integration::write_text(dir_ / "tokens.csv", admin_token_ + ",admin,admin-uid,\"system:masters\"\n" +
                                                     alice_token_ + ",alice,alice-uid\n");
  }

  void make_ca(const std::string& subject, const std::filesystem::path& cert, const std::filesystem::path& key) const {
    openssl({"req", "-x509", "-new", "-config", (dir_ / "openssl.cnf").string(), "-extensions", "ca", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(), "-out", cert.string(),
             "-subj", subject, "-days", "2"});
  }

  void sign_cert(const std::string& extensions, const std::string& subject, const std::filesystem::path& cert,
                 const std::filesystem::path& key, const std::filesystem::path& ca_cert,
                 const std::filesystem::path& ca_key) const {
    openssl({"req", "-x509", "-new", "-config", (dir_ / "openssl.cnf").string(), "-extensions", extensions, "-newkey",
             "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(), "-out",
             cert.string(), "-subj", subject, "-days", "2", "-CA", ca_cert.string(), "-CAkey", ca_key.string()});
  }

  static void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    must(integration::run(args), "openssl " + args[1]);
  }

  static void must(const integration::RunResult& result, const std::string& what) {
    if (result.exit_code != 0) throw std::runtime_error("test kube-apiserver: " + what + " failed: " + result.describe());
  }

  void start_etcd() {
    etcd_client_port_ = free_loopback_port();
    etcd_peer_port_ = free_loopback_port();
    std::string client = "http://127.0.0.1:" + std::to_string(etcd_client_port_);
    std::string peer = "http://127.0.0.1:" + std::to_string(etcd_peer_port_);
    std::error_code ignored;
    std::filesystem::remove_all(etcd_dir_ / "data", ignored);  // a retry starts clean
    etcd_pid_ = spawn({kEtcdBin, "--name", "keystep-test", "--data-dir", (etcd_dir_ / "data").string(),
                       "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                       "--initial-advertise-peer-urls", peer, "--initial-cluster", "keystep-test=" + peer,
                       "--initial-cluster-state", "new", "--snapshot-count", "100000", "--log-level", "warn",
                       "--logger", "zap", "--quota-backend-bytes", std::to_string(1LL << 30)},
                      dir_ / "etcd.log");
  }

  // wait_etcd polls etcd's /health until it answers; false if etcd exited.
  bool wait_etcd() {
    std::string url = "http://127.0.0.1:" + std::to_string(etcd_client_port_) + "/health";
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (has_exited(etcd_pid_)) return false;
      auto r = integration::run({"curl", "-sS", "--max-time", "2", url});
      if (r.exit_code == 0 && r.out.find("\"health\":\"true\"") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw failure("etcd did not report healthy within " + std::to_string(kStartTimeout.count()) + " s");
  }

  // start_apiserver starts kube-apiserver and waits until /readyz is ok and
  // the default namespace exists; false if it exited while starting.
  bool start_apiserver(int port = 0) {
    port_ = port != 0 ? port : free_loopback_port();
    std::string d = dir_.path().string();
    apiserver_pid_ = spawn(
        {binary_.string(),
         "--etcd-servers=http://127.0.0.1:" + std::to_string(etcd_client_port_),
         "--bind-address=127.0.0.1",
         "--advertise-address=127.0.0.1",
         "--secure-port=" + std::to_string(port_),
         "--tls-cert-file=" + d + "/serving.crt",
         "--tls-private-key-file=" + d + "/serving.key",
         "--client-ca-file=" + client_ca_path().string(),
         "--token-auth-file=" + d + "/tokens.csv",
         "--authorization-mode=RBAC",
         "--service-account-key-file=" + service_account_public_key_path().string(),
         "--service-account-signing-key-file=" + d + "/sa.key",
         std::string("--service-account-issuer=") + kServiceAccountIssuer,
         std::string("--api-audiences=") + kServiceAccountIssuer,
         "--service-cluster-ip-range=10.0.0.0/24",
         // No controller-manager runs: nothing would make the token Secret
         // or default ServiceAccount this plugin waits for.
         "--disable-admission-plugins=ServiceAccount",
         // It would publish 127.0.0.1 as the `kubernetes` Endpoints, which
         // validation rejects (loopback), and log that every 10 s.
         "--endpoint-reconciler-type=none",
         "--enable-priority-and-fairness=false",
         "--profiling=false",
         "--cert-dir=" + d + "/cert-dir"},
        dir_ / "kube-apiserver.log");
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    bool is_ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (has_exited(apiserver_pid_)) return false;
      if (!is_ready) {
        auto r = request("GET", "/readyz");
        is_ready = r.exit_code == 0 && r.out == "ok";
      }
      // The bootstrap controller makes `default` a moment after /readyz.
      if (is_ready && request("GET", "/api/v1/namespaces/default").exit_code == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw failure("kube-apiserver was not ready within " + std::to_string(kStartTimeout.count()) + " s");
  }

  // lost_port_race: the last start failed because a port was taken.
  bool lost_port_race() const {
    std::string logs = apiserver_log() + etcd_log();
    return logs.find("address already in use") != std::string::npos;
  }

  void stop() {
    // Throwaway state: SIGKILL is the fastest way down and loses nothing.
    for (pid_t* pid : {&apiserver_pid_, &etcd_pid_}) {
      if (*pid <= 0) continue;
      kill(*pid, SIGKILL);
      int status = 0;
      waitpid(*pid, &status, 0);
      *pid = -1;
    }
  }

  static bool has_exited(pid_t& pid) {
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) pid = -1;
    return pid <= 0;
  }

  // spawn execs argv with stdout and stderr appended to log; the child
  // gets SIGKILL when this thread dies, so a crashed test leaves no server.
  static pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log.string());
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      int null_in = open("/dev/null", O_RDONLY);
      if (null_in >= 0) dup2(null_in, STDIN_FILENO);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(125);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
    if (pid < 0) throw std::runtime_error("fork failed");
    return pid;
  }




  static std::string base64(const std::string& in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
      unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
      out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
    }
    if (i + 1 == in.size()) {
      unsigned v = static_cast<unsigned char>(in[i]) << 16;
      out += {table[v >> 18], table[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
      unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
      out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
    }
    return out;
  }

  [[nodiscard]] std::string kubeconfig_yaml(const std::string& user_fields) const {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: keystep-test\n  cluster:\n    server: " + server_url() +
           "\n    certificate-authority-data: " + base64(ca_pem()) +
           "\ncontexts:\n- name: keystep-test\n  context:\n    cluster: keystep-test\n    user: keystep-test\n"
           "    namespace: default\ncurrent-context: keystep-test\nusers:\n- name: keystep-test\n  user:\n" +
           user_fields;
  }

  static std::string tail(const std::filesystem::path& path, std::size_t max_bytes) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    return text.size() > max_bytes ? "[...]\n" + text.substr(text.size() - max_bytes) : text;
  }

  [[nodiscard]] std::runtime_error failure(const std::string& what) const {
    return std::runtime_error("test kube-apiserver " + std::string(kKubeApiServerVersion) + " could not start (" +
                              what + "). It needs " + binary_.string() +
                              " (run hack/kube-apiserver.sh), etcd-server (apt-get install etcd-server) and curl."
                              "\n--- kube-apiserver log (tail) ---\n" +
                              tail(dir_ / "kube-apiserver.log", 8000) + "\n--- etcd log (tail) ---\n" +
                              tail(dir_ / "etcd.log", 4000));
  }

  integration::TempDir dir_;
  std::filesystem::path etcd_dir_;
  std::filesystem::path binary_;
  std::string admin_token_;
  std::string alice_token_;
  int port_ = 0;
  int etcd_client_port_ = 0;
  int etcd_peer_port_ = 0;
  pid_t etcd_pid_ = -1;
  pid_t apiserver_pid_ = -1;
  int client_certs_ = 0;
  bool crds_applied_ = false;
  std::chrono::milliseconds startup_time_{0};
};

// shared_kube_apiserver is the one server of this test binary run, started
// on first use and stopped at exit.
inline KubeApiServer& shared_kube_apiserver() {
  static KubeApiServer server;
  return server;
}

}  // namespace keystep::testing
