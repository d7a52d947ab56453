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

#include "tests/integration/cluster_fixture.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;
using keystep::testing::KubeApiServer;
using namespace std::chrono_literals;

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
