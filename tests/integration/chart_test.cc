// The Helm chart, rendered by hack/chart-render.sh (Go text/template +
// sprig with helm's helpers, from Debian packages: there is no helm here)
// for several value sets, applied to the real kube-apiserver with
// server-side dry-run; then the chart's ServiceAccount and RBAC are applied
// for real and `keystep serve`, impersonating that ServiceAccount with the
// rendered keystep.yaml, signs a CertificateRequest end to end — proving
// the RBAC is enough — while `kubectl auth can-i` proves it is no broader.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "tests/integration/chart_fixture.h"
#include "tests/integration/cluster_fixture.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

fs::path source_dir() { return keystep::testing::KubeApiServer::source_dir(); }

std::vector<std::string> postgres_values() {
  return {"--set", "storage.postgres.dsn=host=pg.db dbname=keystep user=keystep", "--set",
          "storage.postgres.existingSecret=keystep-postgres"};
}

std::string can_i(Cluster& c, const std::string& user, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"auth", "can-i"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--as", user});
  return without_trailing_newlines(c.kube.kubectl(argv).out);
}

TEST_CASE("the chart's CRDs are the ones in crds/", "[chart]") {
  std::vector<std::string> top, chart;
  for (const auto& e : fs::directory_iterator(source_dir() / "crds")) top.push_back(e.path().filename());
  for (const auto& e : fs::directory_iterator(source_dir() / "charts" / "keystep" / "crds")) {
    chart.push_back(e.path().filename());
  }
  std::sort(top.begin(), top.end());
  std::sort(chart.begin(), chart.end());
  REQUIRE(top == chart);
  for (const auto& name : top) {
    INFO(name << ": copy crds/ into charts/keystep/crds/");
    CHECK(read_text(source_dir() / "crds" / name) == read_text(source_dir() / "charts" / "keystep" / "crds" / name));
  }
}

TEST_CASE("deploy/keystep.yaml is the chart rendered with deploy/values.yaml", "[chart]") {
  auto rendered = render_chart("keystep", {"-f", (source_dir() / "deploy" / "values.yaml").string(), "--include-crds"});
  INFO(rendered.err);
  REQUIRE(rendered.exit_code == 0);
  INFO("run hack/gen-deploy.sh");
  CHECK(rendered.out == read_text(source_dir() / "deploy" / "keystep.yaml"));
}

TEST_CASE("the chart refuses value sets that cannot work, with a message saying why", "[chart]") {
  auto sqlite_replicas = render_chart("keystep", {"--set", "storage.kind=sqlite", "--set", "replicaCount=2"});
  CHECK(sqlite_replicas.exit_code != 0);
  CHECK_THAT(sqlite_replicas.err, Contains("storage.kind=sqlite allows one replica only"));
  auto no_dsn = render_chart("keystep", {});
  CHECK(no_dsn.exit_code != 0);
  CHECK_THAT(no_dsn.err, Contains("storage.postgres.dsn is required"));
  auto bad_kind = render_chart("keystep", {"--set", "storage.kind=etcd"});
  CHECK(bad_kind.exit_code != 0);
  CHECK_THAT(bad_kind.err, Contains("storage.kind must be postgres or sqlite"));
}

TEST_CASE("the chart renders for several value sets and every object passes a server-side dry-run", "[chart]") {
  Cluster c;
  must(c.kube.kubectl({"-n", c.ns, "create", "secret", "generic", "keystep-postgres", "--from-literal=password=x"}),
       "create the database Secret");
  must(c.kube.kubectl({"create", "namespace", c.ns + "-team"}), "create a second namespace");
  const std::vector<std::pair<std::string, std::vector<std::string>>> sets = {
      {"defaults on PostgreSQL", postgres_values()},
      {"one replica on SQLite with a volume, an Ingress, a StepClusterIssuer, JWKS and another Secret namespace",
       {"--set", "storage.kind=sqlite", "--set", "replicaCount=1", "--set", "storage.sqlite.persistence.enabled=true",
        "--set", "ingress.enabled=true", "--set", "ingress.host=ca.example.com", "--set", "clusterIssuer.create=true",
        "--set", "clusterIssuer.name=" + unique("chart"), "--set", "operator.jwks=true", "--set",
        "operator.secretNamespaces[0].namespace=" + c.ns + "-team", "--set",
        "operator.secretNamespaces[0].secretNames[0]=team-ca", "--set", "certManager.approver.enabled=false"}},
      {"PostgreSQL with the database's CA", [&] {
         auto v = postgres_values();
         v.insert(v.end(), {"--set", "storage.postgres.caSecret=db-ca", "--set", "fullnameOverride=" + unique("ks")});
         return v;
       }()},
      {"no operator, three replicas", [&] {
         auto v = postgres_values();
         v.insert(v.end(), {"--set", "operator.enabled=false", "--set", "replicaCount=3", "--set",
                            "fullnameOverride=" + unique("ks")});
         return v;
       }()},
  };
  for (const auto& [what, flags] : sets) {
    INFO(what);
    auto rendered = render_chart(c.ns, flags);
    INFO(rendered.err);
    REQUIRE(rendered.exit_code == 0);
    const auto docs = documents(rendered.out);
    REQUIRE_FALSE(docs.empty());
    auto deployment = find_kind(docs, "Deployment");
    REQUIRE(deployment.IsMap());
    auto pod = deployment["spec"]["template"]["spec"];
    CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
    CHECK(pod["securityContext"]["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
    auto container = pod["containers"][0];
    CHECK(container["securityContext"]["readOnlyRootFilesystem"].as<bool>());
    CHECK_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>());
    CHECK(container["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/health");
    const auto replicas = deployment["spec"]["replicas"].as<int>();
    CHECK(find_kind(docs, "PodDisruptionBudget").IsMap() == (replicas > 1));
    CHECK(find_kind(docs, "StepClusterIssuer").IsMap() == (what.find("StepClusterIssuer") != std::string::npos));
    CHECK(find_kind(docs, "Ingress").IsMap() == (what.find("Ingress") != std::string::npos));
    const bool db_ca = what.find("database's CA") != std::string::npos;
    const auto config = find_kind(docs, "ConfigMap")["data"]["keystep.yaml"].as<std::string>();
    CHECK((config.find("sslrootcert=/etc/keystep/postgres-ca/ca.crt") != std::string::npos) == db_ca);
    bool mounted = false;
    for (const auto& m : container["volumeMounts"]) mounted |= m["mountPath"].as<std::string>() == "/etc/keystep/postgres-ca";
    CHECK(mounted == db_ca);
    auto dry = c.kube.kubectl({"apply", "--dry-run=server", "-f", "-"}, rendered.out);
    INFO(dry.describe());
    CHECK(dry.exit_code == 0);
  }
}

TEST_CASE("the example manifests in deploy/examples pass a server-side dry-run", "[chart]") {
  Cluster c;
  for (const auto& e : fs::directory_iterator(source_dir() / "deploy" / "examples")) {
    INFO(e.path());
    std::string text = read_text(e.path());
    // The ACME example leaves the root for the user to fill in.
    const std::string placeholder = "<base64 of the root certificate>";
    if (auto at = text.find(placeholder); at != std::string::npos) {
      text.replace(at, placeholder.size(), base64(read_text(c.pki.root_cert())));
    }
    auto dry = c.kube.kubectl({"apply", "--dry-run=server", "-n", "default", "-f", "-"}, text);
    INFO(dry.describe());
    CHECK(dry.exit_code == 0);
  }
}

TEST_CASE("keystep serve as the chart's ServiceAccount signs a CertificateRequest, and may do no more than it needs",
          "[chart]") {
  Cluster c;
  c.apply_secret();
  auto rendered = render_chart(c.ns, {"--set", "storage.kind=sqlite", "--set", "replicaCount=1", "--set",
                                "certManager.approver.enabled=false", "--set", "fullnameOverride=" + unique("ks")});
  INFO(rendered.err);
  REQUIRE(rendered.exit_code == 0);
  const auto docs = documents(rendered.out);
  // The ServiceAccount and its RBAC, for real; the Deployment cannot run here.
  std::string rbac;
  for (const auto& d : docs) {
    const auto kind = d["kind"].as<std::string>();
    if (kind == "ServiceAccount" || kind.find("Role") != std::string::npos) {
      rbac += "---\n" + emit(d) + "\n";
    }
  }
  must(c.kube.kubectl({"apply", "-f", "-"}, rbac), "apply the chart's RBAC");
  const std::string sa_name = find_kind(docs, "ServiceAccount")["metadata"]["name"].as<std::string>();
  const std::string user = "system:serviceaccount:" + c.ns + ":" + sa_name;

  // The rendered keystep.yaml, its in-pod paths pointed at local files.
  std::string config = find_kind(docs, "ConfigMap")["data"]["keystep.yaml"].as<std::string>();
  const fs::path ca_dir = c.tmp / "ca-mount";
  fs::create_directories(ca_dir);
  auto secret = get_json(c.kube, {"-n", c.ns, "secret", "keystep-intermediate"});
  for (const char* key : {"tls.crt", "tls.key", "ca.crt"}) {
    write_text(ca_dir / key, unbase64(secret["data"][key].get<std::string>()));
  }
  for (auto [from, to] : {std::pair<std::string, std::string>{"/etc/keystep/ca/", ca_dir.string() + "/"},
                          {"/var/lib/keystep/", c.tmp.path().string() + "/"},
                          {"0.0.0.0:9000", "127.0.0.1:0"}, {"0.0.0.0:9080", "127.0.0.1:0"}}) {
    replace_all(config, from, to);
  }
  const fs::path config_path = c.tmp / "chart-keystep.yaml";
  write_text(config_path, config);
  const fs::path kubeconfig = c.kube.write_impersonating_kubeconfig(c.tmp / "sa.kubeconfig", user);
  ServerProcess::Options options;
  options.config = config_path;
  options.log_file = c.tmp / "chart-serve.log";
  options.extra_args = {"--kubernetes", "--kubeconfig", kubeconfig.string(), "--lease-namespace", c.ns,
                        "--lease-duration", "3s"};
  const std::string issuer = unique("chart");
  c.apply(c.cluster_issuer(issuer));
  ServerProcess server(options);
  c.wait_issuer(issuer, "True", "Ready");
  c.create_request("via-chart", c.make_csr("via-chart", {"via-chart.internal"}), cluster_ref(issuer));
  c.set_approval("via-chart", "Approved");
  auto issued = c.wait_reason("via-chart", "Issued");
  c.verify_issued(issued, "via-chart");
  CHECK_THAT(c.describe("certificaterequest", "via-chart"), Contains("Issued"));
  CHECK(get_json(c.kube, {"-n", c.ns, "lease", "keystep-controllers"}).is_object());
  CHECK(server.log().find("forbidden") == std::string::npos);

  // What it needs, and nothing more.
  CHECK(can_i(c, user, {"-n", c.ns, "get", "secret/keystep-intermediate"}) == "yes");
  CHECK(can_i(c, user, {"-n", c.ns, "get", "secret/other"}) == "no");
  CHECK(can_i(c, user, {"-n", c.ns, "list", "secrets"}) == "no");
  CHECK(can_i(c, user, {"-n", "kube-system", "get", "secrets"}) == "no");
  CHECK(can_i(c, user, {"-n", c.ns, "update", "secret/keystep-intermediate"}) == "no");
  CHECK(can_i(c, user, {"-n", c.ns, "create", "certificaterequests.cert-manager.io"}) == "no");
  CHECK(can_i(c, user, {"-n", c.ns, "update", "certificaterequests.cert-manager.io"}) == "no");
  CHECK(can_i(c, user, {"-n", c.ns, "patch", "certificaterequests.cert-manager.io", "--subresource=status"}) == "yes");
  CHECK(can_i(c, user, {"-n", c.ns, "delete", "leases.coordination.k8s.io"}) == "no");
  CHECK(can_i(c, user, {"-n", "kube-system", "create", "leases.coordination.k8s.io"}) == "no");
  CHECK(can_i(c, user, {"delete", "stepclusterissuers.keystep.dev"}) == "no");
  CHECK(can_i(c, user, {"create", "pods"}) == "no");
}

}  // namespace
}  // namespace keystep::integration
