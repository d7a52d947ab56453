#pragma once
// CA fixtures for the integration tests, made the way a user makes them: a
// PKI written by `keystep init`, a server from `keystep serve`, HTTPS calls
// that trust only the PKI's root. Helpers throw HarnessError with the
// failing command's output, which Catch2 reports as a failed test.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/http/client.h"
#include "tests/integration/harness.h"

namespace keystep::integration {

inline constexpr char kPassword[] = "correct horse battery staple";

// Pki is the folder `keystep init --out DIR` wrote.
struct Pki {
  std::filesystem::path dir;
  std::filesystem::path password_file;  // empty for --no-password
  std::string provisioner = "admin";

  [[nodiscard]] std::filesystem::path root_cert() const { return dir / "certs" / "root_ca.crt"; }
  [[nodiscard]] std::filesystem::path root_key() const { return dir / "secrets" / "root_ca_key"; }
  [[nodiscard]] std::filesystem::path intermediate_cert() const { return dir / "certs" / "intermediate_ca.crt"; }
  [[nodiscard]] std::filesystem::path intermediate_csr() const { return dir / "certs" / "intermediate_ca.csr"; }
  [[nodiscard]] std::filesystem::path intermediate_key() const { return dir / "secrets" / "intermediate_ca_key"; }
  [[nodiscard]] std::filesystem::path provisioner_key() const { return dir / "secrets" / (provisioner + ".jwk"); }
  [[nodiscard]] std::filesystem::path config() const { return dir / "config" / "keystep.yaml"; }
  [[nodiscard]] std::filesystem::path secret_manifest() const {
    return dir / "kubernetes" / "intermediate-secret.yaml";
  }
};

struct InitOptions {
  std::string name = "Test CA";
  std::string dns = "localhost,127.0.0.1";
  bool password = true;            // --password-file, else --no-password
  std::vector<std::string> extra;  // more flags: {"--kty", "RSA"}, {"--intermediate-csr-only"}, ...
};

// password_file writes kPassword to DIR/password.txt once and returns it.
[[nodiscard]] std::filesystem::path password_file(const TempDir& tmp);

// init_args is the `keystep init` argv (without the binary) for out.
[[nodiscard]] std::vector<std::string> init_args(const TempDir& tmp, const std::filesystem::path& out,
                                                 const InitOptions& options);

// init_pki runs `keystep init ... --out tmp/subdir` and requires success.
[[nodiscard]] Pki init_pki(const TempDir& tmp, const std::string& subdir, const InitOptions& options = {});

// serve_options starts the PKI's server with its password file, if any.
[[nodiscard]] ServerProcess::Options serve_options(const Pki& pki);

// ca_certificate_args is `keystep ca certificate SUBJECT CRT KEY` against
// server with the PKI's root and provisioner, plus extra flags.
[[nodiscard]] std::vector<std::string> ca_certificate_args(const Pki& pki, const ServerProcess& server,
                                                           const std::string& subject, const std::filesystem::path& crt,
                                                           const std::filesystem::path& key,
                                                           const std::vector<std::string>& extra = {});

// get_certificate runs `keystep ca certificate SUBJECT dir/SUBJECT.crt
// dir/SUBJECT.key` (see ca_certificate_args), requires success and
// returns the certificate file.
std::filesystem::path get_certificate(const Pki& pki, const ServerProcess& server, const std::filesystem::path& dir,
                                      const std::string& subject, const std::vector<std::string>& extra = {});

// require_ok throws with the command's output unless it exited 0.
const RunResult& require_ok(const RunResult& result, const std::string& what);

// append_provisioner adds a JWK provisioner to a config written by init
// (whose last section is the provisioners list).
void append_provisioner(const std::filesystem::path& config, const std::string& name, const nlohmann::json& public_jwk,
                        const std::string& encrypted_key = "");

// CaHttp calls a running server over HTTPS with keystep's own client,
// trusting only the PKI's root. Transport failures throw.
class CaHttp {
 public:
  CaHttp(const ServerProcess& server, const Pki& pki);

  [[nodiscard]] http::ClientResponse get(const std::string& path, const http::HeaderList& headers = {}) const;
  [[nodiscard]] http::ClientResponse head(const std::string& path) const;
  [[nodiscard]] http::ClientResponse post(const std::string& path, const std::string& body,
                                          const http::HeaderList& headers = {}) const;
  // post_sign sends a SignRequest body to /1.0/sign.
  [[nodiscard]] http::ClientResponse post_sign(const nlohmann::json& body) const;

 private:
  [[nodiscard]] http::ClientResponse call(const std::string& method, const std::string& path, const std::string& body,
                                          const http::HeaderList& headers) const;
  std::string url_;
  http::ClientOptions options_;
};

// RunningCa is a PKI from init_pki in its own TempDir and its server.
// prepare, when given, may change the PKI (its config) before the server
// starts.
struct RunningCa {
  explicit RunningCa(const InitOptions& options = {}, const std::function<void(const Pki&)>& prepare = {})
      : pki(prepared(init_pki(tmp, "ca", options), prepare)), server(serve_options(pki)), http(server, pki) {}

  TempDir tmp;
  Pki pki;
  ServerProcess server;
  CaHttp http;

 private:
  static Pki prepared(Pki pki, const std::function<void(const Pki&)>& prepare) {
    if (prepare) prepare(pki);
    return pki;
  }
};

// json_body parses a response body; throws with the body if it is not JSON.
[[nodiscard]] nlohmann::json json_body(const http::ClientResponse& response);

}  // namespace keystep::integration
