#include "operator/kube/kube_config.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"

using namespace keystep;
using namespace keystep::kube;
namespace fs = std::filesystem;

namespace {

// TempDir is a fresh directory removed with everything in it.
struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("keystep-kube-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& content) const {
    auto p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p;
  }
  fs::path path;
};

std::string b64(const std::string& s) { return common::base64_encode(common::to_bytes(s)); }

// ScopedEnv sets (or unsets, for nullptr) a variable and restores it.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

const std::string kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: )" + b64("DEV CA PEM") + R"(
- name: prod-cluster
  cluster:
    server: https://10.0.0.1:443
    certificate-authority: certs/prod-ca.pem
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    client-certificate: certs/client.pem
    client-key-data: )" + b64("CLIENT KEY PEM") + R"(
    as: alice
- name: file-user
  user:
    tokenFile: token
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
    namespace: keystep
- name: rotating
  context:
    cluster: dev-cluster
    user: file-user
)";

}  // namespace

TEST_CASE("load_kubeconfig reads the current context with inline data", "[kube]") {
  TempDir dir;
  auto path = dir.write("config", kTwoContexts);
  auto config = load_kubeconfig(path);
  REQUIRE(config);
  CHECK(config->server == "https://dev.example:6443");
  CHECK(config->ca_pem == "DEV CA PEM");
  CHECK(config->token.view() == "dev-token");
  CHECK(config->token_file.empty());
  CHECK(config->namespace_ == "default");
  CHECK_FALSE(config->insecure_skip_tls_verify);
  CHECK(config->client_cert_pem.empty());
}

TEST_CASE("load_kubeconfig reads a named context with files relative to the kubeconfig", "[kube]") {
  TempDir dir;
  dir.write("kube/certs/prod-ca.pem", "PROD CA PEM");
  dir.write("kube/certs/client.pem", "CLIENT CERT PEM");
  auto path = dir.write("kube/config", kTwoContexts);
  auto config = load_kubeconfig(path, "prod");
  REQUIRE(config);
  CHECK(config->server == "https://10.0.0.1:443");
  CHECK(config->ca_pem == "PROD CA PEM");
  CHECK(config->insecure_skip_tls_verify);
  CHECK(config->client_cert_pem == "CLIENT CERT PEM");
  CHECK(config->client_key_pem.view() == "CLIENT KEY PEM");
  CHECK(config->namespace_ == "keystep");
  CHECK(config->impersonate_user == "alice");
  CHECK(config->token.empty());
}

TEST_CASE("load_kubeconfig keeps a tokenFile as a path for the client to re-read", "[kube]") {
  TempDir dir;
  dir.write("token", "first");
  auto path = dir.write("config", kTwoContexts);
  auto config = load_kubeconfig(path, "rotating");
  REQUIRE(config);
  CHECK(config->token.empty());
  CHECK(config->token_file.is_absolute());
  CHECK(config->token_file == fs::absolute(dir.path / "token"));
}

TEST_CASE("load_kubeconfig refuses exec and auth-provider naming the field", "[kube]") {
  TempDir dir;
  auto path = dir.write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users:
- name: u
  user:
    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}
- name: g
  user:
    auth-provider: {name: gcp}
contexts:
- {name: c, context: {cluster: k, user: u}}
- {name: g, context: {cluster: k, user: g}}
)");
  auto exec = load_kubeconfig(path);
  REQUIRE_FALSE(exec);
  CHECK(exec.error().code == Errc::invalid_argument);
  CHECK_THAT(exec.error().message, Catch::Contains("users[u].user.exec"));
  auto provider = load_kubeconfig(path, "g");
  REQUIRE_FALSE(provider);
  CHECK_THAT(provider.error().message, Catch::Contains("users[g].user.auth-provider"));
}

TEST_CASE("load_kubeconfig names what is missing", "[kube]") {
  TempDir dir;
  auto path = dir.write("config", kTwoContexts);
  auto missing = load_kubeconfig(path, "nope");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("contexts[nope]"));

  auto no_server = dir.write("no-server", R"(current-context: c
clusters: [{name: k, cluster: {}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  auto e = load_kubeconfig(no_server);
  REQUIRE_FALSE(e);
  CHECK_THAT(e.error().message, Catch::Contains("clusters[k].cluster.server: required"));

  auto bad_file = dir.write("bad-file", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", certificate-authority: missing.pem}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  auto f = load_kubeconfig(bad_file);
  REQUIRE_FALSE(f);
  CHECK_THAT(f.error().message, Catch::Contains("clusters[k].cluster.certificate-authority"));

  CHECK(load_kubeconfig(dir.path / "absent").error().code == Errc::invalid_argument);
  CHECK(load_kubeconfig(dir.write("garbage", "[unclosed")).error().code == Errc::invalid_argument);
}

TEST_CASE("in_cluster_config reads the service-account mount and the service env", "[kube]") {
  TempDir dir;
  dir.write("token", "bound-token\n");
  dir.write("ca.crt", "CLUSTER CA");
  dir.write("namespace", "keystep\n");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  auto config = in_cluster_config(dir.path);
  REQUIRE(config);
  CHECK(config->server == "https://10.96.0.1:443");
  CHECK(config->ca_pem == "CLUSTER CA");
  CHECK(config->namespace_ == "keystep");
  CHECK(config->token.empty());  // re-read per request, never held
  CHECK(config->token_file == dir.path / "token");
}

TEST_CASE("in_cluster_config brackets an IPv6 service host", "[kube]") {
  TempDir dir;
  dir.write("token", "t");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00::1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");
  auto config = in_cluster_config(dir.path);
  REQUIRE(config);
  CHECK(config->server == "https://[fd00::1]:6443");
  CHECK(config->namespace_ == "default");
}

TEST_CASE("in_cluster_config is failed_precondition outside a cluster", "[kube]") {
  TempDir dir;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
  ScopedEnv port("KUBERNETES_SERVICE_PORT", nullptr);
  CHECK(in_cluster_config(dir.path).error().code == Errc::failed_precondition);
  ScopedEnv host2("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port2("KUBERNETES_SERVICE_PORT", "443");
  CHECK(in_cluster_config(dir.path).error().code == Errc::failed_precondition);  // no token
}

TEST_CASE("resolve_config prefers the flag, then KUBECONFIG", "[kube]") {
  TempDir dir;
  auto flag = dir.write("flag", kTwoContexts);
  auto other = dir.write("env", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://from-env"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ScopedEnv kubeconfig("KUBECONFIG", other.c_str());
  CHECK(resolve_config(flag)->server == "https://dev.example:6443");
  CHECK(resolve_config(flag, "prod").error().code == Errc::invalid_argument);  // prod's files are absent
  CHECK(resolve_config("")->server == "https://from-env");
}
