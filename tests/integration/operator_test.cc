// The operator end to end, as a cluster user meets it: `keystep init` makes
// the PKI, its Secret manifest is applied to a real kube-apiserver, a
// StepClusterIssuer points at it, `keystep serve --kubernetes` runs out of
// cluster with a kubeconfig, and CertificateRequests are created and
// approved exactly as cert-manager does. openssl verifies what comes back;
// `kubectl describe` must explain every outcome.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/harness.h"
#include "tests/support/kube_apiserver.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;
using keystep::testing::KubeApiServer;
using keystep::testing::shared_kube_apiserver;
using namespace std::chrono_literals;

std::string unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

const RunResult& must(const RunResult& r, const std::string& what) {
  if (r.exit_code != 0) throw HarnessError(what + " failed:\n" + r.describe());
  return r;
}

nlohmann::json get_json(KubeApiServer& kube, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"get"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-o");
  argv.push_back("json");
  auto r = kube.kubectl(argv);
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.out);
}

// eventually polls `check` every 100 ms until it returns true or the
// timeout passes; returns the last answer.
bool eventually(const std::function<bool()>& check, std::chrono::seconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return check();
}

nlohmann::json condition(const nlohmann::json& object, const std::string& type) {
  if (!object.is_object()) return nullptr;
  for (const auto& c : object.value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

std::string base64(const std::string& text) { return without_trailing_newlines(must(run({"base64", "-w0"}, text), "base64").out); }
std::string unbase64(const std::string& text) { return must(run({"base64", "-d"}, text), "base64 -d").out; }

// Cluster is one test's world: a namespace, a PKI whose Secret is applied
// there, and helpers to make issuers and requests.
struct Cluster {
  KubeApiServer& kube = shared_kube_apiserver();
  TempDir tmp;
  std::string ns = unique("keystep");
  Pki pki;

  Cluster() {
    kube.apply_crds();
    must(kube.kubectl({"create", "namespace", ns}), "create namespace");
    pki = init_pki(tmp, "ca", InitOptions{.extra = {"--secret-namespace", ns}});
  }

  void apply_secret() { must(kube.kubectl({"apply", "-f", pki.secret_manifest().string()}), "apply the Secret"); }

  void apply(const nlohmann::json& object) { must(kube.kubectl({"apply", "-f", "-"}, object.dump()), "apply"); }

  nlohmann::json cluster_issuer(const std::string& name, const nlohmann::json& extra_spec = nlohmann::json::object()) {
    nlohmann::json spec = {{"ca", {{"secretRef", {{"name", "keystep-intermediate"}, {"namespace", ns}}}}}};
    spec.update(extra_spec);
    return {{"apiVersion", "keystep.dev/v1alpha1"},
            {"kind", "StepClusterIssuer"},
            {"metadata", {{"name", name}}},
            {"spec", spec}};
  }

  std::vector<std::string> operator_args() const {
    return {"--kubernetes", "--kubeconfig", kube.kubeconfig_path().string(), "--lease-namespace", ns,
            "--lease-duration", "3s"};
  }

  ServerProcess::Options operator_options(const std::string& log_name = "server.log") const {
    auto options = serve_options(pki);
    options.extra_args = operator_args();
    options.log_file = tmp / log_name;
    return options;
  }

  // make_csr writes a P-256 key and a CSR for the names; returns the CSR PEM.
  std::string make_csr(const std::string& name, const std::vector<std::string>& dns) {
    std::string san = "subjectAltName=";
    for (std::size_t i = 0; i < dns.size(); ++i) san += (i ? ",DNS:" : "DNS:") + dns[i];
    auto key = tmp / (name + ".key");
    auto csr = tmp / (name + ".csr");
    must(run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
              key.string(), "-out", csr.string(), "-subj", "/CN=" + dns.front(), "-addext", san}),
         "openssl req");
    return read_text(csr);
  }

  // create_request creates a CertificateRequest as cert-manager would.
  void create_request(const std::string& name, const std::string& csr_pem, const nlohmann::json& issuer_ref,
                      const nlohmann::json& extra_spec = nlohmann::json::object()) {
    nlohmann::json spec = {{"request", base64(csr_pem)},
                           {"issuerRef", issuer_ref},
                           {"usages", {"digital signature", "key encipherment", "server auth"}}};
    spec.update(extra_spec);
    nlohmann::json cr = {{"apiVersion", "cert-manager.io/v1"},
                         {"kind", "CertificateRequest"},
                         {"metadata", {{"name", name}, {"namespace", ns}}},
                         {"spec", spec}};
    must(kube.kubectl({"create", "-f", "-"}, cr.dump()), "create CertificateRequest");
  }

  // set_approval sets Approved or Denied the way cert-manager's approver
  // does: a condition through the status subresource.
  void set_approval(const std::string& name, const std::string& type) {
    nlohmann::json patch = {
        {"status",
         {{"conditions",
           {{{"type", type},
             {"status", "True"},
             {"reason", type == "Approved" ? "cert-manager.io" : "policy.cert-manager.io"},
             {"message", type == "Approved" ? "Certificate request has been approved by cert-manager.io"
                                            : "Denied by the test's policy"},
             {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}}}};
    must(kube.kubectl({"-n", ns, "patch", "certificaterequest", name, "--subresource=status", "--type=merge", "-p",
                       patch.dump()}),
         "set " + type);
  }

  nlohmann::json request(const std::string& name) { return get_json(kube, {"-n", ns, "certificaterequest", name}); }

  // wait_ready waits for the request's Ready condition to carry `reason`.
  nlohmann::json wait_reason(const std::string& name, const std::string& reason, std::chrono::seconds timeout = 30s) {
    nlohmann::json last;
    eventually(
        [&] {
          last = request(name);
          return condition(last, "Ready").is_object() && condition(last, "Ready").value("reason", "") == reason;
        },
        timeout);
    INFO("CertificateRequest " << name << ": " << last.dump(2));
    REQUIRE(condition(last, "Ready").value("reason", "") == reason);
    return last;
  }

  nlohmann::json wait_issuer(const std::string& name, const std::string& status, const std::string& reason = "") {
    nlohmann::json last;
    eventually([&] {
      last = get_json(kube, {"stepclusterissuer", name});
      auto ready = condition(last, "Ready");
      return ready.is_object() && ready.value("status", "") == status &&
             (reason.empty() || ready.value("reason", "") == reason);
    });
    INFO("StepClusterIssuer " << name << ": " << last.dump(2));
    REQUIRE(condition(last, "Ready").value("status", "") == status);
    return last;
  }

  std::string describe(const std::string& kind, const std::string& name, bool namespaced = true) {
    std::vector<std::string> args = {"describe", kind, name};
    if (namespaced) args.insert(args.begin(), {"-n", ns});
    return must(kube.kubectl(args), "describe").out;
  }

  // verify_issued checks status.certificate with openssl: it chains to the
  // root, leaf first, and carries the CSR's public key.
  void verify_issued(const nlohmann::json& cr, const std::string& key_name) {
    const std::string chain = unbase64(cr["status"]["certificate"].get<std::string>());
    const std::string ca = unbase64(cr["status"]["ca"].get<std::string>());
    write_text(tmp / (key_name + ".chain.pem"), chain);
    write_text(tmp / (key_name + ".ca.pem"), ca);
    CHECK(ca == read_text(pki.root_cert()));
    auto verified = run({"openssl", "verify", "-CAfile", (tmp / (key_name + ".ca.pem")).string(), "-untrusted",
                         (tmp / (key_name + ".chain.pem")).string(), (tmp / (key_name + ".chain.pem")).string()});
    INFO(verified.describe());
    CHECK(verified.exit_code == 0);
    auto leaf_key = must(run({"openssl", "x509", "-noout", "-pubkey", "-in", (tmp / (key_name + ".chain.pem")).string()}),
                         "x509 -pubkey")
                        .out;
    auto csr_key =
        must(run({"openssl", "pkey", "-pubout", "-in", (tmp / (key_name + ".key")).string()}), "pkey -pubout").out;
    CHECK(leaf_key == csr_key);
  }
};

nlohmann::json cluster_ref(const std::string& name) {
  return {{"group", "keystep.dev"}, {"kind", "StepClusterIssuer"}, {"name", name}};
}

TEST_CASE("a StepClusterIssuer over the Secret from keystep init becomes Ready and signs an approved request",
          "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("internal");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(c.operator_options());

  auto ready_issuer = c.wait_issuer(issuer, "True", "Ready");
  CHECK(ready_issuer["status"]["observedGeneration"] == ready_issuer["metadata"]["generation"]);
  CHECK(condition(ready_issuer, "Ready")["observedGeneration"] == ready_issuer["metadata"]["generation"]);
  const auto intermediate_sha =
      without_trailing_newlines(must(run({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                          c.pki.intermediate_cert().string()}),
                                     "fingerprint")
                                    .out);
  std::string expected;
  for (char ch : intermediate_sha.substr(intermediate_sha.find('=') + 1)) {
    if (ch != ':') expected += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  CHECK(ready_issuer["status"]["intermediate"]["sha256"] == expected);
  auto table = must(c.kube.kubectl({"get", "stepclusterissuer", issuer}), "get").out;
  CHECK_THAT(table, Contains("READY") && Contains("True"));

  const std::string csr = c.make_csr("web", {"web.internal", "www.web.internal"});
  c.create_request("web", csr, cluster_ref(issuer), {{"duration", "2h0m0s"}, {"username", "alice"}});
  // Not approved yet: nothing happens.
  std::this_thread::sleep_for(1500ms);
  CHECK(condition(c.request("web"), "Ready").is_null());
  c.set_approval("web", "Approved");
  auto issued = c.wait_reason("web", "Issued");
  CHECK(condition(issued, "Ready")["status"] == "True");
  c.verify_issued(issued, "web");
  auto text = must(run({"openssl", "x509", "-noout", "-text", "-in", (c.tmp / "web.chain.pem").string()}), "x509").out;
  CHECK_THAT(text, Contains("DNS:web.internal") && Contains("DNS:www.web.internal"));
  CHECK_THAT(text, Contains("TLS Web Server Authentication"));
  CHECK(server.count("certificaterequest issued") == 1);
  CHECK_THAT(c.describe("certificaterequest", "web"), Contains("Issued") && Contains("Certificate issued by"));
  CHECK_THAT(c.describe("stepclusterissuer", issuer, false), Contains("Ready"));
}

TEST_CASE("an issuer without its Secret is not Ready until the Secret appears, and its requests wait Pending",
          "[operator]") {
  Cluster c;
  const std::string issuer = unique("later");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(c.operator_options());
  auto not_ready = c.wait_issuer(issuer, "False", "SecretNotFound");
  CHECK_THAT(condition(not_ready, "Ready").value("message", ""), Contains("keystep-intermediate") && Contains("not found"));
  CHECK_THAT(c.describe("stepclusterissuer", issuer, false), Contains("SecretNotFound"));

  c.create_request("early", c.make_csr("early", {"early.internal"}), cluster_ref(issuer));
  c.set_approval("early", "Approved");
  auto pending = c.wait_reason("early", "Pending");
  CHECK_THAT(condition(pending, "Ready").value("message", ""), Contains("to be Ready") && Contains("SecretNotFound"));
  CHECK_FALSE(pending["status"].contains("failureTime"));

  c.apply_secret();
  c.wait_issuer(issuer, "True", "Ready");
  auto issued = c.wait_reason("early", "Issued");
  c.verify_issued(issued, "early");
}

TEST_CASE("a request for an issuer that does not exist stays Pending and is issued once the issuer is created",
          "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("missing");
  ServerProcess server(c.operator_options());
  c.create_request("orphan", c.make_csr("orphan", {"orphan.internal"}), cluster_ref(issuer));
  c.set_approval("orphan", "Approved");
  auto pending = c.wait_reason("orphan", "Pending");
  CHECK_THAT(condition(pending, "Ready").value("message", ""), Contains("does not exist"));
  c.apply(c.cluster_issuer(issuer));
  auto issued = c.wait_reason("orphan", "Issued");
  c.verify_issued(issued, "orphan");
}

TEST_CASE("a denied request is Ready=False reason Denied with failureTime, and nothing is signed", "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("deny");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(c.operator_options());
  c.wait_issuer(issuer, "True");
  c.create_request("nope", c.make_csr("nope", {"nope.internal"}), cluster_ref(issuer));
  c.set_approval("nope", "Denied");
  auto denied = c.wait_reason("nope", "Denied");
  CHECK(condition(denied, "Ready")["status"] == "False");
  CHECK(denied["status"].contains("failureTime"));
  CHECK_FALSE(denied["status"].contains("certificate"));
  CHECK(server.count("certificaterequest issued") == 0);
  CHECK_THAT(c.describe("certificaterequest", "nope"), Contains("Denied"));
}

TEST_CASE("a request outside the issuer's policy fails with failureTime and a message naming the name", "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("policy");
  c.apply(c.cluster_issuer(issuer, {{"policy", {{"allow", {{"dns", {"*.internal"}}}}}}}));
  ServerProcess server(c.operator_options());
  c.wait_issuer(issuer, "True");
  c.create_request("evil", c.make_csr("evil", {"evil.example.com"}), cluster_ref(issuer));
  c.set_approval("evil", "Approved");
  auto failed = c.wait_reason("evil", "Failed");
  CHECK(failed["status"].contains("failureTime"));
  CHECK_FALSE(failed["status"].contains("certificate"));
  CHECK_THAT(condition(failed, "Ready").value("message", ""), Contains("evil.example.com"));
  CHECK_THAT(c.describe("certificaterequest", "evil"), Contains("Failed") && Contains("evil.example.com"));

  // isCA is refused unless the issuer allows CA issuance.
  c.create_request("subca", c.make_csr("subca", {"ca.internal"}), cluster_ref(issuer), {{"isCA", true}});
  c.set_approval("subca", "Approved");
  auto refused = c.wait_reason("subca", "Failed");
  CHECK_FALSE(refused["status"].contains("certificate"));
  CHECK(server.count("certificaterequest issued") == 0);
}

TEST_CASE("a namespaced StepIssuer signs requests of its own namespace from a Secret there", "[operator]") {
  Cluster c;
  c.apply_secret();
  ServerProcess server(c.operator_options());
  nlohmann::json issuer = {{"apiVersion", "keystep.dev/v1alpha1"},
                           {"kind", "StepIssuer"},
                           {"metadata", {{"name", "team-ca"}, {"namespace", c.ns}}},
                           {"spec", {{"ca", {{"secretRef", {{"name", "keystep-intermediate"}}}}}}}};
  c.apply(issuer);
  nlohmann::json ready;
  REQUIRE(eventually([&] {
    ready = get_json(c.kube, {"-n", c.ns, "stepissuer", "team-ca"});
    return condition(ready, "Ready").value("status", "") == "True";
  }));
  c.create_request("team-web", c.make_csr("team-web", {"web.team.internal"}),
                   {{"group", "keystep.dev"}, {"kind", "StepIssuer"}, {"name", "team-ca"}});
  c.set_approval("team-web", "Approved");
  auto issued = c.wait_reason("team-web", "Issued");
  c.verify_issued(issued, "team-web");

  // A StepIssuer may not read a Secret of another namespace.
  nlohmann::json foreign = issuer;
  foreign["metadata"]["name"] = "foreign";
  foreign["spec"]["ca"]["secretRef"]["namespace"] = "kube-system";
  c.apply(foreign);
  nlohmann::json refused;
  REQUIRE(eventually([&] {
    refused = get_json(c.kube, {"-n", c.ns, "stepissuer", "foreign"});
    return condition(refused, "Ready").value("reason", "") == "InvalidSpec";
  }));
  CHECK(condition(refused, "Ready")["status"] == "False");
  CHECK_THAT(condition(refused, "Ready").value("message", ""), Contains("namespace"));
}

TEST_CASE("requests for other issuer groups are left untouched", "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("mine");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(c.operator_options());
  c.wait_issuer(issuer, "True");
  c.create_request("theirs", c.make_csr("theirs", {"theirs.internal"}),
                   {{"group", "cert-manager.io"}, {"kind", "ClusterIssuer"}, {"name", issuer}});
  c.set_approval("theirs", "Approved");
  c.create_request("ours", c.make_csr("ours", {"ours.internal"}), cluster_ref(issuer));
  c.set_approval("ours", "Approved");
  c.wait_reason("ours", "Issued");
  auto theirs = c.request("theirs");
  CHECK(condition(theirs, "Ready").is_null());
  CHECK_FALSE(theirs["status"].contains("certificate"));
}

TEST_CASE("a rotated intermediate in the Secret is picked up without a restart", "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("rotate");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(c.operator_options());
  auto before = c.wait_issuer(issuer, "True");
  const std::string old_sha = before["status"]["intermediate"]["sha256"];
  c.create_request("one", c.make_csr("one", {"one.internal"}), cluster_ref(issuer));
  c.set_approval("one", "Approved");
  c.wait_reason("one", "Issued");

  // A new intermediate under the same root, signed offline.
  auto csr_only = c.tmp / "rotated";
  must(keystep(init_args(c.tmp, csr_only, InitOptions{.extra = {"--intermediate-csr-only", "--secret-namespace", c.ns}})),
       "init --intermediate-csr-only");
  must(keystep({"ca", "sign-intermediate", (csr_only / "certs" / "intermediate_ca.csr").string(),
                (csr_only / "certs" / "intermediate_ca.crt").string(), "--root-cert", c.pki.root_cert().string(),
                "--root-key", c.pki.root_key().string(), "--password-file", c.pki.password_file.string()}),
       "sign-intermediate");
  auto key_pem = must(run({"openssl", "pkey", "-in", (csr_only / "secrets" / "intermediate_ca_key").string(), "-passin",
                           "file:" + c.pki.password_file.string()}),
                      "decrypt intermediate key")
                     .out;
  nlohmann::json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "kubernetes.io/tls"},
      {"metadata", {{"name", "keystep-intermediate"}, {"namespace", c.ns}}},
      {"data",
       {{"tls.crt", base64(read_text(csr_only / "certs" / "intermediate_ca.crt"))},
        {"tls.key", base64(key_pem)},
        {"ca.crt", base64(read_text(c.pki.root_cert()))}}}};
  // Requests keep flowing while the Secret changes.
  c.create_request("during", c.make_csr("during", {"during.internal"}), cluster_ref(issuer));
  c.set_approval("during", "Approved");
  c.apply(secret);
  REQUIRE(eventually([&] {
    auto now = get_json(c.kube, {"stepclusterissuer", issuer});
    return now.is_object() && now["status"]["intermediate"]["sha256"] != old_sha;
  }));
  c.wait_reason("during", "Issued");
  c.create_request("after", c.make_csr("after", {"after.internal"}), cluster_ref(issuer));
  c.set_approval("after", "Approved");
  auto after = c.wait_reason("after", "Issued");
  c.verify_issued(after, "after");
  const std::string chain = unbase64(after["status"]["certificate"].get<std::string>());
  CHECK_THAT(chain, Contains(read_text(csr_only / "certs" / "intermediate_ca.crt").substr(0, 200)));
  CHECK_THAT(c.describe("stepclusterissuer", issuer, false),
             Contains("IntermediateRotated"));
  CHECK(server.count("certificaterequest issued") == 3);

  // A broken Secret keeps the current intermediate signing.
  secret["data"]["tls.key"] = base64("not a key");
  c.apply(secret);
  REQUIRE(eventually([&] { return c.describe("stepclusterissuer", issuer, false).find("SecretRejected") != std::string::npos; }));
  c.create_request("still", c.make_csr("still", {"still.internal"}), cluster_ref(issuer));
  c.set_approval("still", "Approved");
  c.wait_reason("still", "Issued");
}

TEST_CASE("two operator processes share one Lease: only the leader signs, and killing it hands over", "[operator]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("ha");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess first(c.operator_options("first.log"));
  REQUIRE(eventually([&] { return first.count("leadership acquired") == 1; }));
  ServerProcess second(c.operator_options("second.log"));
  c.wait_issuer(issuer, "True");
  for (int i = 0; i < 5; ++i) {
    const std::string name = "ha-" + std::to_string(i);
    c.create_request(name, c.make_csr(name, {name + ".internal"}), cluster_ref(issuer));
    c.set_approval(name, "Approved");
  }
  for (int i = 0; i < 5; ++i) c.wait_reason("ha-" + std::to_string(i), "Issued");
  CHECK(first.count("certificaterequest issued") == 5);
  CHECK(second.count("certificaterequest issued") == 0);
  CHECK(second.count("leadership acquired") == 0);

  const auto killed_at = std::chrono::steady_clock::now();
  kill(first.pid(), SIGKILL);
  (void)first.stop(SIGKILL);
  REQUIRE(eventually([&] { return second.count("leadership acquired") == 1; }, 20s));
  const auto handover = std::chrono::steady_clock::now() - killed_at;
  WARN("leader hand-over took " << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count() << " ms");
  CHECK(handover < 10s);  // lease duration 3 s, plus the informer's and the poll's slack
  c.create_request("after-kill", c.make_csr("after-kill", {"after-kill.internal"}), cluster_ref(issuer));
  c.set_approval("after-kill", "Approved");
  auto issued = c.wait_reason("after-kill", "Issued");
  c.verify_issued(issued, "after-kill");
  CHECK(second.count("certificaterequest issued") == 1);
  auto lease = get_json(c.kube, {"-n", c.ns, "lease", "keystep-controllers"});
  CHECK(lease["spec"]["leaseTransitions"].get<int>() >= 1);
}

}  // namespace
}  // namespace keystep::integration
