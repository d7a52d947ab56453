// K8sSA end to end: a pod's projected service-account token, minted by the
// real kube-apiserver (`kubectl create token`), is presented to
// `keystep serve --kubernetes` on /1.0/sign; Keystep asks the API server
// (TokenReview) and issues a certificate whose names come from the service
// account and namespace. Wrong audiences, names of another namespace and
// expired tokens are refused, and nothing is issued for them.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/common/base64.h"
#include "tests/integration/cluster_fixture.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;

std::string b64url(const std::string& s) { return common::base64url_encode(s); }

// PodWorld is a namespace with a service account, and a CA whose
// keystep.yaml has a K8sSA provisioner "pods" (audience keystep).
struct PodWorld {
  KubeApiServer& kube = shared_kube_apiserver();
  TempDir tmp;
  std::string ns = unique("team");
  std::string sa = "app";
  Pki pki;

  PodWorld() {
    kube.apply_crds();
    must(kube.kubectl({"create", "namespace", ns}), "create namespace");
    must(kube.kubectl({"-n", ns, "create", "serviceaccount", sa}), "create serviceaccount");
    pki = init_pki(tmp, "ca");
    std::ofstream config(pki.config(), std::ios::app);
    config << "  - name: pods\n    type: K8sSA\n    audiences: [keystep]\n";
  }

  ServerProcess::Options options() const {
    auto o = serve_options(pki);
    o.extra_args = {"--kubernetes", "--kubeconfig", kube.kubeconfig_path().string(), "--lease-namespace", ns};
    return o;
  }

  std::string token(const std::string& audience) {
    auto r = must(kube.kubectl({"-n", ns, "create", "token", sa, "--audience", audience}), "kubectl create token");
    return without_trailing_newlines(r.out);
  }

  std::string csr(const std::string& name, const std::vector<std::string>& dns) {
    auto key = tmp / (name + ".key");
    auto out = tmp / (name + ".csr");
    std::vector<std::string> argv = {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                     "-nodes", "-keyout", key.string(), "-out", out.string(), "-subj",
                                     dns.empty() ? "/O=pods" : "/CN=" + dns.front()};
    if (!dns.empty()) {
      std::string san = "subjectAltName=";
      for (std::size_t i = 0; i < dns.size(); ++i) san += (i ? ",DNS:" : "DNS:") + dns[i];
      argv.push_back("-addext");
      argv.push_back(san);
    }
    must(run(argv), "openssl req");
    return read_text(out);
  }

  // expired_token signs, with the API server's own service-account key, a
  // bound token for this service account that expired two minutes ago.
  std::string expired_token() {
    auto sa_json = nlohmann::json::parse(must(kube.kubectl({"-n", ns, "get", "serviceaccount", sa, "-o", "json"}), "get sa").out);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    nlohmann::json payload = {
        {"iss", kube.service_account_issuer()},
        {"aud", {"keystep"}},
        {"sub", "system:serviceaccount:" + ns + ":" + sa},
        {"iat", now - 900},
        {"nbf", now - 900},
        {"exp", now - 120},
        {"kubernetes.io",
         {{"namespace", ns}, {"serviceaccount", {{"name", sa}, {"uid", sa_json["metadata"]["uid"]}}}}}};
    const std::string signing_input = b64url(header.dump()) + "." + b64url(payload.dump());
    write_text(tmp / "jwt.in", signing_input);
    auto sig = must(run({"openssl", "dgst", "-sha256", "-sign", (kube.base_dir() / "sa.key").string(), "-out",
                         (tmp / "jwt.sig").string(), (tmp / "jwt.in").string()}),
                    "sign the token");
    (void)sig;
    return signing_input + "." + b64url(read_text(tmp / "jwt.sig"));
  }
};

TEST_CASE("a pod's service-account token from kubectl create token gets a certificate for its own names",
          "[k8ssa]") {
  PodWorld w;
  ServerProcess server(w.options());
  CaHttp http(server, w.pki);

  auto listing = json_body(http.get("/1.0/provisioners"));
  bool listed = false;
  for (const auto& p : listing["provisioners"]) listed = listed || (p["name"] == "pods" && p["type"] == "K8sSA");
  CHECK(listed);

  const std::string own = w.ns;
  auto res = http.post_sign({{"csr", w.csr("ok", {"app." + own + ".svc"})}, {"ott", w.token("keystep")}});
  INFO(res.body);
  REQUIRE(res.status == 201);
  auto body = nlohmann::json::parse(res.body);
  write_text(w.tmp / "ok.crt", body["crt"].get<std::string>());
  auto text = must(run({"openssl", "x509", "-noout", "-text", "-in", (w.tmp / "ok.crt").string()}), "x509").out;
  CHECK_THAT(text, Contains("DNS:app." + own + ".svc"));
  CHECK_THAT(text, Contains("DNS:app." + own + ".svc.cluster.local"));
  CHECK_THAT(text, Contains("URI:spiffe://cluster.local/ns/" + own + "/sa/app"));
  auto verified = run({"openssl", "verify", "-CAfile", w.pki.root_cert().string(), "-untrusted",
                       w.pki.intermediate_cert().string(), (w.tmp / "ok.crt").string()});
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);

  // A CSR with no names gets every name the service account may hold.
  auto bare = http.post_sign({{"csr", w.csr("bare", {})}, {"ott", w.token("keystep")}});
  INFO(bare.body);
  CHECK(bare.status == 201);
  CHECK(server.count("certificate issued") == 2);

  // The README's way from a host: keystep ca certificate with the token.
  auto cli = run({keystep_bin().string(), "ca", "certificate", "app." + own + ".svc", (w.tmp / "cli.crt").string(),
                  (w.tmp / "cli.key").string(), "--token", w.token("keystep"), "--ca-url", server.url(), "--root",
                  w.pki.root_cert().string()});
  INFO(cli.describe());
  REQUIRE(cli.exit_code == 0);
  auto cli_text = must(run({"openssl", "x509", "-noout", "-text", "-in", (w.tmp / "cli.crt").string()}), "x509").out;
  CHECK_THAT(cli_text, Contains("URI:spiffe://cluster.local/ns/" + own + "/sa/app"));
}

TEST_CASE("a K8sSA token is refused for a wrong audience, another namespace's names, or after it expired",
          "[k8ssa]") {
  PodWorld w;
  ServerProcess server(w.options());
  CaHttp http(server, w.pki);

  auto wrong_audience = http.post_sign({{"csr", w.csr("aud", {"app." + w.ns + ".svc"})}, {"ott", w.token("vault")}});
  INFO(wrong_audience.body);
  CHECK(wrong_audience.status == 401);

  auto api_audience = http.post_sign(
      {{"csr", w.csr("api", {"app." + w.ns + ".svc"})}, {"ott", w.token(w.kube.service_account_issuer())}});
  CHECK(api_audience.status == 401);

  auto other_ns = http.post_sign({{"csr", w.csr("other", {"db.kube-system.svc"})}, {"ott", w.token("keystep")}});
  INFO(other_ns.body);
  CHECK(other_ns.status == 403);
  CHECK_THAT(other_ns.body, Contains("db.kube-system.svc"));

  auto expired = http.post_sign({{"csr", w.csr("old", {"app." + w.ns + ".svc"})}, {"ott", w.expired_token()}});
  INFO(expired.body);
  CHECK(expired.status == 401);

  auto forged = w.token("keystep");
  char& c = forged[forged.size() - 20];  // inside the signature
  c = c == 'A' ? 'B' : 'A';
  auto tampered = http.post_sign({{"csr", w.csr("forged", {"app." + w.ns + ".svc"})}, {"ott", forged}});
  CHECK(tampered.status == 401);

  CHECK(server.count("certificate issued") == 0);
  CHECK_THAT(server.log(), !Contains(forged.substr(0, 40)));
}


TEST_CASE("a K8sSA provisioner with tokenVerification JWKS verifies tokens with the API server's issuer keys",
          "[k8ssa]") {
  PodWorld w;
  {
    std::ofstream config(w.pki.config(), std::ios::app);
    config << "  - name: local\n    type: K8sSA\n    audiences: [keystep-local]\n    tokenVerification: JWKS\n";
  }
  ServerProcess server(w.options());
  CaHttp http(server, w.pki);

  auto res = http.post_sign({{"csr", w.csr("local", {"app." + w.ns + ".svc"})}, {"ott", w.token("keystep-local")}});
  INFO(res.body);
  REQUIRE(res.status == 201);
  write_text(w.tmp / "local.crt", nlohmann::json::parse(res.body)["crt"].get<std::string>());
  auto text = must(run({"openssl", "x509", "-noout", "-text", "-in", (w.tmp / "local.crt").string()}), "x509").out;
  CHECK_THAT(text, Contains("URI:spiffe://cluster.local/ns/" + w.ns + "/sa/app"));
  CHECK_THAT(server.log(), Contains("provisioner=local"));

  // The same refusals as a TokenReview gives.
  auto wrong_audience =
      http.post_sign({{"csr", w.csr("aud", {"app." + w.ns + ".svc"})}, {"ott", w.token("keystep-other")}});
  CHECK(wrong_audience.status == 401);
  auto other_ns =
      http.post_sign({{"csr", w.csr("other", {"db.kube-system.svc"})}, {"ott", w.token("keystep-local")}});
  CHECK(other_ns.status == 403);
  auto forged = w.token("keystep-local");
  char& c = forged[forged.size() - 20];
  c = c == 'A' ? 'B' : 'A';
  CHECK(http.post_sign({{"csr", w.csr("forged", {"app." + w.ns + ".svc"})}, {"ott", forged}}).status == 401);

  // What only a TokenReview knows: the service account is gone. The
  // default provisioner refuses its token at once; a JWKS one accepts it
  // until it expires (the trade documented for tokenVerification: JWKS).
  const std::string reviewed = w.token("keystep"), local = w.token("keystep-local");
  must(w.kube.kubectl({"-n", w.ns, "delete", "serviceaccount", w.sa}), "delete serviceaccount");
  auto deleted = http.post_sign({{"csr", w.csr("gone", {"app." + w.ns + ".svc"})}, {"ott", reviewed}});
  INFO(deleted.body);
  CHECK(deleted.status == 401);
  auto still = http.post_sign({{"csr", w.csr("gone-local", {"app." + w.ns + ".svc"})}, {"ott", local}});
  CHECK(still.status == 201);
  CHECK(server.count("certificate issued") == 2);
}

}  // namespace
}  // namespace keystep::integration
