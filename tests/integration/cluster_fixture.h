#pragma once
// Cluster is the world of one operator test: a namespace on the shared real
// kube-apiserver, a PKI from `keystep init` whose Secret manifest targets
// it, and helpers that create issuers and CertificateRequests the way a user
// and cert-manager do, wait for their conditions and verify what was issued
// with openssl.

#include <unistd.h>

#include <algorithm>
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

using keystep::testing::KubeApiServer;
using keystep::testing::shared_kube_apiserver;
using namespace std::chrono_literals;

inline std::string unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

inline const RunResult& must(const RunResult& r, const std::string& what) {
  if (r.exit_code != 0) throw HarnessError(what + " failed:\n" + r.describe());
  return r;
}

inline nlohmann::json get_json(KubeApiServer& kube, const std::vector<std::string>& args) {
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
inline bool eventually(const std::function<bool()>& check, std::chrono::seconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return check();
}

inline nlohmann::json condition(const nlohmann::json& object, const std::string& type) {
  if (!object.is_object()) return nullptr;
  for (const auto& c : object.value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

inline std::string base64(const std::string& text) { return without_trailing_newlines(must(run({"base64", "-w0"}, text), "base64").out); }
inline std::string unbase64(const std::string& text) { return must(run({"base64", "-d"}, text), "base64 -d").out; }

// make_csr writes dir/<name>.key (P-256) and a CSR for the DNS names, with
// common name `cn` (default: the first name); returns the CSR PEM.
inline std::string make_csr(const std::filesystem::path& dir, const std::string& name,
                            const std::vector<std::string>& dns, const std::string& cn = "") {
  std::string san = "subjectAltName=";
  for (std::size_t i = 0; i < dns.size(); ++i) san += (i ? ",DNS:" : "DNS:") + dns[i];
  const auto key = dir / (name + ".key");
  const auto csr = dir / (name + ".csr");
  must(run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            key.string(), "-out", csr.string(), "-subj", "/CN=" + (cn.empty() ? dns.front() : cn), "-addext", san}),
       "openssl req");
  return read_text(csr);
}

// create_request creates a CertificateRequest in `ns` as cert-manager would.
inline void create_request(KubeApiServer& kube, const std::string& ns, const std::string& name,
                           const std::string& csr_pem, const nlohmann::json& issuer_ref,
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
inline void set_approval(KubeApiServer& kube, const std::string& ns, const std::string& name,
                         const std::string& type) {
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

// wait_reason waits for the request's Ready condition to carry `reason`.
inline nlohmann::json wait_reason(KubeApiServer& kube, const std::string& ns, const std::string& name,
                                  const std::string& reason, std::chrono::seconds timeout = 30s) {
  nlohmann::json last;
  eventually(
      [&] {
        last = get_json(kube, {"-n", ns, "certificaterequest", name});
        return condition(last, "Ready").is_object() && condition(last, "Ready").value("reason", "") == reason;
      },
      timeout);
  INFO("CertificateRequest " << name << ": " << last.dump(2));
  REQUIRE(condition(last, "Ready").value("reason", "") == reason);
  return last;
}

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
    return integration::make_csr(tmp.path(), name, dns);
  }

  void create_request(const std::string& name, const std::string& csr_pem, const nlohmann::json& issuer_ref,
                      const nlohmann::json& extra_spec = nlohmann::json::object()) {
    integration::create_request(kube, ns, name, csr_pem, issuer_ref, extra_spec);
  }

  void set_approval(const std::string& name, const std::string& type) {
    integration::set_approval(kube, ns, name, type);
  }

  nlohmann::json request(const std::string& name) { return get_json(kube, {"-n", ns, "certificaterequest", name}); }

  nlohmann::json wait_reason(const std::string& name, const std::string& reason, std::chrono::seconds timeout = 30s) {
    return integration::wait_reason(kube, ns, name, reason, timeout);
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

// provisioner_names lists /1.0/provisioners of a replica.
inline std::vector<std::string> provisioner_names(const ServerProcess& server, const Pki& pki) {
  CaHttp http(server, pki);
  auto body = json_body(http.get("/1.0/provisioners?limit=100"));
  std::vector<std::string> names;
  for (const auto& p : body["provisioners"]) names.push_back(p.value("name", ""));
  return names;
}

inline bool lists(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

inline nlohmann::json cluster_ref(const std::string& name) {
  return {{"group", "keystep.dev"}, {"kind", "StepClusterIssuer"}, {"name", name}};
}

}  // namespace keystep::integration
