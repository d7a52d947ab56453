// The kube-apiserver harness (tests/support/kube_apiserver.h) serves what
// the operator's tests rely on: cert-manager's CRDs with their status
// subresource, TokenRequest and TokenReview, the issuer's JWKS, watches,
// Leases, Events, client certificates and RBAC that denies a plain user.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/kube_apiserver.h"
#include "tests/support/pki.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;
using keystep::testing::KubeApiServer;
using keystep::testing::shared_kube_apiserver;

// fresh_namespace creates a namespace no other test of this run uses.
std::string fresh_namespace(const KubeApiServer& kube) {
  static std::atomic<int> counter{0};
  std::string name = "kube-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  auto created = kube.kubectl({"create", "namespace", name});
  INFO(created.describe());
  REQUIRE(created.exit_code == 0);
  return name;
}

nlohmann::json json_of(const RunResult& result) {
  INFO(result.describe());
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

std::string base64_of(const std::string& text) {
  auto r = run({"base64", "-w0"}, text);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

TEST_CASE("the kube-apiserver harness starts etcd and kube-apiserver and reports its startup time", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  WARN("kube-apiserver startup took " << kube.startup_time().count() << " ms");
  auto version = json_of(kube.kubectl({"get", "--raw", "/version"}));
  CHECK(version["gitVersion"].get<std::string>().rfind("v1.20.", 0) == 0);
  CHECK(kube.server_url().rfind("https://127.0.0.1:", 0) == 0);
  CHECK_THAT(kube.ca_pem(), Contains("BEGIN CERTIFICATE"));
}

TEST_CASE("apply_crds establishes cert-manager's CRDs and every CRD in crds/ on the kube-apiserver", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  kube.apply_crds();
  // One CRD per file in crds/ (the colleague's CRDs may not exist yet).
  std::size_t own = 0;
  if (std::filesystem::is_directory(KubeApiServer::source_dir() / "crds")) {
    for (const auto& entry : std::filesystem::directory_iterator(KubeApiServer::source_dir() / "crds")) {
      own += entry.path().extension() == ".yaml" ? 1 : 0;
    }
  }
  auto crds = json_of(kube.kubectl({"get", "crd", "-o", "json"}));
  std::vector<std::string> names;
  for (const auto& crd : crds["items"]) {
    std::string name = crd["metadata"]["name"].get<std::string>();
    names.push_back(name);
    std::string established;
    for (const auto& c : crd["status"]["conditions"]) {
      if (c["type"] == "Established") established = c["status"].get<std::string>();
    }
    INFO(name);
    CHECK(established == "True");
  }
  CHECK(names.size() == 6 + own);
  for (const char* crd : {"certificaterequests.cert-manager.io", "certificates.cert-manager.io",
                          "issuers.cert-manager.io", "clusterissuers.cert-manager.io"}) {
    CHECK(std::find(names.begin(), names.end(), crd) != names.end());
  }
  auto listed = kube.kubectl({"get", "certificaterequests.cert-manager.io", "--all-namespaces"});
  INFO(listed.describe());
  CHECK(listed.exit_code == 0);
}

TEST_CASE("the kube-apiserver changes a CertificateRequest's status through the /status subresource only", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  kube.apply_crds();
  std::string ns = fresh_namespace(kube);
  auto key = keystep::testing::make_key();
  std::string csr = keystep::testing::make_csr_pem(key.get(), {.cn = "app.example.com", .dns = {"app.example.com"}});
  auto created = kube.kubectl({"apply", "-n", ns, "-f", "-"}, R"(apiVersion: cert-manager.io/v1
kind: CertificateRequest
metadata:
  name: app
spec:
  issuerRef: {group: keystep.dev, kind: StepIssuer, name: ca}
  request: )" + base64_of(csr) + "\n");
  INFO(created.describe());
  REQUIRE(created.exit_code == 0);

  const std::string approved =
      R"({"status":{"conditions":[{"type":"Approved","status":"True","reason":"test","message":"approved by the test"}]}})";
  // A patch of the main resource drops status: the subresource owns it.
  auto main = kube.kubectl({"patch", "-n", ns, "certificaterequest", "app", "--type=merge", "-p", approved});
  INFO(main.describe());
  REQUIRE(main.exit_code == 0);
  CHECK(json_of(kube.kubectl({"get", "-n", ns, "certificaterequest", "app", "-o", "json"})).count("status") == 0);

  auto status = kube.kubectl(
      {"patch", "-n", ns, "certificaterequest", "app", "--subresource=status", "--type=merge", "-p", approved});
  INFO(status.describe());
  REQUIRE(status.exit_code == 0);
  auto got = json_of(kube.kubectl({"get", "-n", ns, "certificaterequest", "app", "-o", "json"}));
  REQUIRE(got["status"]["conditions"].size() == 1);
  CHECK(got["status"]["conditions"][0]["type"] == "Approved");
  CHECK(got["status"]["conditions"][0]["status"] == "True");
}

TEST_CASE("kubectl create token returns a service-account JWT that TokenReview authenticates", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  std::string ns = fresh_namespace(kube);
  REQUIRE(kube.kubectl({"create", "serviceaccount", "-n", ns, "keystep"}).exit_code == 0);
  auto token = kube.kubectl(
      {"create", "token", "keystep", "-n", ns, "--audience", "https://ca.keystep.test", "--duration", "10m"});
  INFO(token.describe());
  REQUIRE(token.exit_code == 0);
  std::string jwt = without_trailing_newlines(token.out);
  CHECK(std::count(jwt.begin(), jwt.end(), '.') == 2);

  auto review = json_of(kube.kubectl({"create", "-o", "json", "-f", "-"}, R"({
  "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
  "spec": {"token": ")" + jwt + R"(", "audiences": ["https://ca.keystep.test"]}})"));
  INFO(review.dump(2));
  CHECK(review["status"]["authenticated"] == true);
  CHECK(review["status"]["user"]["username"] == "system:serviceaccount:" + ns + ":keystep");
  CHECK(review["status"]["audiences"] == nlohmann::json::array({"https://ca.keystep.test"}));

  auto wrong_audience = json_of(kube.kubectl({"create", "-o", "json", "-f", "-"}, R"({
  "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
  "spec": {"token": ")" + jwt + R"(", "audiences": ["https://elsewhere.test"]}})"));
  CHECK(wrong_audience["status"].value("authenticated", false) == false);
}

TEST_CASE("create_token gets a TokenRequest token bound to the audience without kubectl", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  std::string ns = fresh_namespace(kube);
  REQUIRE(kube.kubectl({"create", "serviceaccount", "-n", ns, "issuer"}).exit_code == 0);
  std::string jwt = kube.create_token(ns, "issuer", "https://ca.keystep.test", std::chrono::minutes(10));
  auto review = kube.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", R"({
  "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
  "spec": {"token": ")" + jwt + R"(", "audiences": ["https://ca.keystep.test"]}})");
  INFO(review.describe());
  REQUIRE(review.exit_code == 0);
  auto status = nlohmann::json::parse(review.out)["status"];
  CHECK(status["authenticated"] == true);
  CHECK(status["user"]["username"] == "system:serviceaccount:" + ns + ":issuer");
  // No such service account: TokenRequest answers 404.
  CHECK_THROWS_WITH(kube.create_token(ns, "missing", "https://ca.keystep.test"), Contains("404"));
}

TEST_CASE("the kube-apiserver's service-account issuer serves its discovery document and an RS256 JWKS", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  auto discovery = json_of(kube.kubectl({"get", "--raw", "/.well-known/openid-configuration"}));
  CHECK(discovery["issuer"] == kube.service_account_issuer());
  auto jwks = json_of(kube.kubectl({"get", "--raw", "/openid/v1/jwks"}));
  REQUIRE(jwks["keys"].size() == 1);
  CHECK(jwks["keys"][0]["kty"] == "RSA");
  CHECK(jwks["keys"][0]["alg"] == "RS256");
}

TEST_CASE("the kube-apiserver authenticates alice but RBAC forbids her to list secrets", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  auto alice_can = kube.kubectl({"--token", kube.alice_token(), "auth", "can-i", "list", "secrets"});
  CHECK(alice_can.exit_code == 1);
  CHECK(without_trailing_newlines(alice_can.out) == "no");
  auto admin_can = kube.kubectl({"auth", "can-i", "list", "secrets"});
  CHECK(admin_can.exit_code == 0);
  CHECK(without_trailing_newlines(admin_can.out) == "yes");

  auto listed = kube.kubectl({"--token", kube.alice_token(), "get", "secrets"});
  CHECK(listed.exit_code != 0);
  CHECK_THAT(listed.err, Contains("forbidden") && Contains("\"alice\""));
}

TEST_CASE("the kube-apiserver authenticates a client certificate from the harness's client CA as its CN and groups", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  TempDir tmp;
  auto cert = kube.issue_client_cert("carol", {"system:masters"});
  auto kubeconfig = kube.write_kubeconfig(tmp / "carol.kubeconfig", cert);
  auto who = run({keystep::testing::kKubectlBin, "--kubeconfig", kubeconfig.string(), "--cache-dir",
                  (tmp / "cache").string(), "auth", "can-i", "list", "secrets"});
  INFO(who.describe());
  CHECK(who.exit_code == 0);
  CHECK(without_trailing_newlines(who.out) == "yes");
}

TEST_CASE("the kube-apiserver stores Leases and Events and streams a watch", "[kube]") {
  KubeApiServer& kube = shared_kube_apiserver();
  std::string ns = fresh_namespace(kube);
  auto applied = kube.kubectl({"apply", "-n", ns, "-f", "-"}, R"(apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: keystep-leader}
spec: {holderIdentity: pod-a, leaseDurationSeconds: 15}
---
apiVersion: v1
kind: Event
metadata: {name: keystep-test.1}
involvedObject: {kind: Lease, name: keystep-leader, namespace: )" + ns + R"(}
reason: Test
message: harness event
type: Normal
---
apiVersion: v1
kind: ConfigMap
metadata: {name: watched}
data: {k: v}
)");
  INFO(applied.describe());
  REQUIRE(applied.exit_code == 0);
  CHECK(kube.kubectl({"get", "-n", ns, "lease", "keystep-leader", "-o", "jsonpath={.spec.holderIdentity}"}).out ==
        "pod-a");
  CHECK(kube.kubectl({"get", "-n", ns, "event", "keystep-test.1", "-o", "jsonpath={.message}"}).out ==
        "harness event");

  // A watch from resourceVersion 0 replays the ConfigMap as ADDED; the
  // server ends the stream after timeoutSeconds.
  auto watch = run({"curl", "-sSf", "--max-time", "20", "--cacert", kube.ca_path().string(), "-H",
                    "Authorization: Bearer " + kube.admin_token(),
                    kube.server_url() + "/api/v1/namespaces/" + ns +
                        "/configmaps?watch=true&resourceVersion=0&timeoutSeconds=1"});
  INFO(watch.describe());
  REQUIRE(watch.exit_code == 0);
  auto first = nlohmann::json::parse(watch.out.substr(0, watch.out.find('\n')));
  CHECK(first["type"] == "ADDED");
  CHECK(first["object"]["metadata"]["name"] == "watched");
}

}  // namespace
}  // namespace keystep::integration
