// The container image, run the way the chart's Deployment runs it. No
// kubelet runs here, so podman plays its part for one pod: the rendered
// Deployment's image, args, securityContext (user, group, fsGroup,
// read-only root filesystem, no privilege escalation, no capabilities,
// seccomp), its ConfigMap, Secret and emptyDir volumes with the modes a
// kubelet gives them, and the ServiceAccount's token, CA and namespace
// mounted where every pod has them, with KUBERNETES_SERVICE_HOST/PORT set.
// The server therefore takes the in-cluster configuration path and talks to
// the real kube-apiserver with its own ServiceAccount token: the chart's
// RBAC is what lets it work. The probes are the Deployment's.
//
// The one difference from a cluster: the pods share the host's network (to
// reach the API server on loopback), so each gets free ports in its copy of
// the ConfigMap's keystep.yaml instead of 9000/9080.
//
// The image is $KEYSTEP_IMAGE (hack/test.sh builds it with hack/image.sh
// before ctest), else hack/image.sh is run here; a missing image or a
// podman that cannot start containers fails the test.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "tests/integration/chart_fixture.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// kImageBuildTimeout bounds hack/image.sh when the image is not given (a cold
// build is about 10 minutes on 2 cores).
constexpr std::chrono::seconds kImageBuildTimeout{3600};

fs::path source_dir() { return KubeApiServer::source_dir(); }

// image is $KEYSTEP_IMAGE, else what hack/image.sh printed last.
std::string image() {
  static std::string found;
  if (!found.empty()) return found;
  const char* env = std::getenv("KEYSTEP_IMAGE");
  if (env != nullptr && *env != '\0') {
    found = env;
  } else {
    auto built = run({(source_dir() / "hack" / "image.sh").string()}, "", kImageBuildTimeout);
    if (built.exit_code != 0) throw HarnessError("hack/image.sh failed: " + built.describe());
    found = without_trailing_newlines(built.out);
    found = found.substr(found.rfind('\n') + 1);
  }
  if (run({"podman", "image", "exists", found}).exit_code != 0) {
    throw HarnessError("image " + found + " is not in podman's store: run hack/image.sh (hack/test.sh does)");
  }
  return found;
}

// podman runs podman with the flags hack/lib/podman-flags.sh gives for
// `run` (runtime, rlimits) when the subcommand is run or exec.
RunResult podman(std::vector<std::string> args, std::chrono::seconds timeout = kRunTimeout) {
  static const std::vector<std::string> run_flags = [] {
    auto flags = run({(source_dir() / "hack" / "lib" / "podman-flags.sh").string()});
    if (flags.exit_code != 0) throw HarnessError("hack/lib/podman-flags.sh failed: " + flags.describe());
    std::istringstream in(flags.out);
    std::vector<std::string> out;
    for (std::string word; in >> word;) out.push_back(word);
    return out;
  }();
  if (!args.empty() && args[0] == "run") args.insert(args.begin() + 1, run_flags.begin(), run_flags.end());
  args.insert(args.begin(), "podman");
  return run(args, "", timeout);
}

// required_kind is find_kind that fails the test when the kind is missing.
YAML::Node required_kind(const std::vector<YAML::Node>& docs, const std::string& kind) {
  auto found = find_kind(docs, kind);
  if (!found) throw HarnessError("the rendered chart has no " + kind);
  return found;
}

// Release is the chart rendered into a Cluster's namespace, its
// ServiceAccount and RBAC applied for real.
struct Release {
  Cluster& c;
  std::vector<YAML::Node> docs;
  YAML::Node deployment;
  std::string service_account;

  Release(Cluster& cluster, const std::vector<std::string>& flags) : c(cluster) {
    auto rendered = render_chart(c.ns, flags);
    if (rendered.exit_code != 0) throw HarnessError("chart-render failed: " + rendered.describe());
    docs = documents(rendered.out);
    std::string rbac;
    for (const auto& d : docs) {
      const auto kind = d["kind"].as<std::string>();
      if (kind == "ServiceAccount" || kind.find("Role") != std::string::npos || kind == "ConfigMap") {
        rbac += "---\n" + emit(d) + "\n";
      }
    }
    must(c.kube.kubectl({"apply", "-f", "-"}, rbac), "apply the chart's ServiceAccount, RBAC and ConfigMap");
    deployment = required_kind(docs, "Deployment");
    service_account = deployment["spec"]["template"]["spec"]["serviceAccountName"].as<std::string>();
  }
};

// Pod is one replica of the release's Deployment, run by podman the way a
// kubelet runs it; removed (podman rm -f) when destroyed.
class Pod {
 public:
  Pod(Release& release, const std::string& name) : c_(release.c), name_(unique(name)) {
    const YAML::Node pod = release.deployment["spec"]["template"]["spec"];
    const YAML::Node container = pod["containers"][0];
    // A free host port for each container port, by name and by number.
    std::map<int, int> host_ports;
    for (const auto& p : container["ports"]) {
      const int port = keystep::testing::free_loopback_port();
      ports_[p["name"].as<std::string>()] = port;
      host_ports[p["containerPort"].as<int>()] = port;
    }
    const fs::path dir = c_.tmp / name_;
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);

    std::vector<std::string> args = {"run", "-d", "--name", name_, "--hostname", name_, "--network", "host"};
    const YAML::Node psc = pod["securityContext"];
    const YAML::Node sc = container["securityContext"];
    fs_group_ = psc["fsGroup"].as<int>(0);
    const int uid = sc["runAsUser"].as<int>(psc["runAsUser"].as<int>(-1));
    const int gid = sc["runAsGroup"].as<int>(psc["runAsGroup"].as<int>(-1));
    if (uid >= 0) {
      args.insert(args.end(), {"--user", std::to_string(uid) + (gid >= 0 ? ":" + std::to_string(gid) : "")});
    }
    if (fs_group_ > 0) args.insert(args.end(), {"--group-add", std::to_string(fs_group_)});
    if (sc["readOnlyRootFilesystem"].as<bool>(false)) args.emplace_back("--read-only");
    if (!sc["allowPrivilegeEscalation"].as<bool>(true)) {
      args.insert(args.end(), {"--security-opt", "no-new-privileges"});
    }
    for (const auto& cap : sc["capabilities"]["drop"]) args.insert(args.end(), {"--cap-drop", cap.as<std::string>()});
    const YAML::Node profile = sc["seccompProfile"] ? sc["seccompProfile"] : psc["seccompProfile"];
    const std::string seccomp = profile ? profile["type"].as<std::string>("") : "";
    // podman's default seccomp profile is the runtime's default; Unconfined would turn it off.
    REQUIRE(seccomp == "RuntimeDefault");

    // Volumes, as a kubelet lays them out.
    std::map<std::string, fs::path> volumes;
    for (const auto& v : pod["volumes"]) {
      const auto vname = v["name"].as<std::string>();
      const fs::path host = dir / ("volume-" + vname);
      fs::create_directories(host);
      if (v["configMap"]) {
        const YAML::Node cm = required_kind(release.docs, "ConfigMap");
        for (const auto& kv : cm["data"]) {
          std::string text = kv.second.as<std::string>();
          if (kv.first.as<std::string>() == "keystep.yaml") {
            for (const auto& [in_pod, on_host] : host_ports) {
              replace_all(text, "0.0.0.0:" + std::to_string(in_pod), "127.0.0.1:" + std::to_string(on_host));
            }
          }
          project(host / kv.first.as<std::string>(), text, v["configMap"]["defaultMode"].as<int>(0644));
        }
      } else if (v["secret"]) {
        auto secret = get_json(c_.kube, {"-n", c_.ns, "secret", v["secret"]["secretName"].as<std::string>()});
        REQUIRE(secret.is_object());
        for (const auto& item : v["secret"]["items"]) {
          project(host / item["path"].as<std::string>(),
                  unbase64(secret["data"][item["key"].as<std::string>()].get<std::string>()),
                  v["secret"]["defaultMode"].as<int>(0644));
        }
      } else if (v["emptyDir"]) {
        // 0777, and with an fsGroup owned by it with the setgid bit.
        if (fs_group_ > 0) REQUIRE(::chown(host.c_str(), 0, fs_group_) == 0);
        REQUIRE(::chmod(host.c_str(), fs_group_ > 0 ? 02777 : 0777) == 0);
      } else {
        FAIL("volume " << vname << " has a kind this test cannot lay out");
      }
      finish_dir(host);
      volumes[vname] = host;
    }
    for (const auto& m : container["volumeMounts"]) {
      const fs::path& host = volumes.at(m["name"].as<std::string>());
      args.insert(args.end(), {"-v", host.string() + ":" + m["mountPath"].as<std::string>() +
                                         (m["readOnly"].as<bool>(false) ? ":ro" : ":rw")});
    }
    // The ServiceAccount's projected token, CA and namespace.
    const fs::path sa = dir / "serviceaccount";
    fs::create_directories(sa);
    const std::string token = without_trailing_newlines(
        must(c_.kube.kubectl({"-n", c_.ns, "create", "token", release.service_account}), "create token").out);
    project(sa / "token", token, 0644);
    project(sa / "ca.crt", c_.kube.ca_pem(), 0644);
    project(sa / "namespace", c_.ns, 0644);
    finish_dir(sa);
    args.insert(args.end(), {"-v", sa.string() + ":/var/run/secrets/kubernetes.io/serviceaccount:ro", "-e",
                             "KUBERNETES_SERVICE_HOST=127.0.0.1", "-e",
                             "KUBERNETES_SERVICE_PORT=" + std::to_string(c_.kube.port())});

    // The chart's default image is the name hack/image.sh gives the image it builds.
    CHECK(container["image"].as<std::string>() == "keystep:" + chart_app_version());
    args.push_back(image());
    for (const auto& a : container["args"]) args.push_back(a.as<std::string>());
    if (container["command"]) FAIL("the Deployment overrides the image's entrypoint");
    readiness_ = container["readinessProbe"]["httpGet"];
    liveness_ = container["livenessProbe"]["httpGet"];
    must(podman(args), "podman run " + name_);
    started_ = true;
  }

  ~Pod() {
    if (started_) (void)podman({"rm", "-f", "-t", "0", name_});
  }
  Pod(const Pod&) = delete;
  Pod& operator=(const Pod&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] int https_port() const { return ports_.at("https"); }
  [[nodiscard]] std::string logs() const {
    auto r = podman({"logs", name_});
    return r.out + r.err;
  }
  [[nodiscard]] bool running() const {
    return without_trailing_newlines(podman({"inspect", "-f", "{{.State.Running}}", name_}).out) == "true";
  }

  // probe is the HTTP status code of a Deployment probe (0 when nothing answers).
  [[nodiscard]] int probe(const YAML::Node& http_get) const {
    const auto port = ports_.at(http_get["port"].as<std::string>());
    auto r = run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                  "http://127.0.0.1:" + std::to_string(port) + http_get["path"].as<std::string>()});
    return std::atoi(r.out.c_str());
  }
  [[nodiscard]] int readiness() const { return probe(readiness_); }
  [[nodiscard]] int liveness() const { return probe(liveness_); }

  // wait_ready waits until the readiness probe answers 200, failing with the
  // container's log when it does not (or the container exits).
  void wait_ready() const {
    const bool ready = eventually([&] { return readiness() == 200 || !running(); }, 60s) && running();
    INFO("pod " << name_ << " log:\n" << logs());
    REQUIRE(ready);
  }

  // stop sends SIGTERM and waits up to `grace` (podman stop), as a kubelet
  // does; returns the container's exit code.
  int stop(int grace) {
    must(podman({"stop", "-t", std::to_string(grace), name_}, std::chrono::seconds(grace + 30)), "podman stop");
    return std::atoi(podman({"inspect", "-f", "{{.State.ExitCode}}", name_}).out.c_str());
  }

 private:
  // project writes one file of a volume as a kubelet's atomic writer does:
  // owned by root, with the volume's mode; with an fsGroup, owned by that
  // group and group-readable.
  void project(const fs::path& path, const std::string& text, int mode) const {
    write_text(path, text);
    if (fs_group_ > 0) {
      REQUIRE(::chown(path.c_str(), 0, fs_group_) == 0);
      mode |= 0440;
    }
    REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
  }
  void finish_dir(const fs::path& dir) const {
    if (fs_group_ > 0) REQUIRE(::chown(dir.c_str(), 0, fs_group_) == 0);
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    if ((st.st_mode & 07777) != 02777) REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  }
  static std::string chart_app_version() {
    const YAML::Node chart = YAML::LoadFile((source_dir() / "charts" / "keystep" / "Chart.yaml").string());
    return chart["appVersion"].as<std::string>();
  }

  Cluster& c_;
  std::string name_;
  int fs_group_ = 0;
  std::map<std::string, int> ports_;
  YAML::Node readiness_;
  YAML::Node liveness_;
  bool started_ = false;
};

std::string lease_holder(Cluster& c) {
  auto lease = get_json(c.kube, {"-n", c.ns, "lease", "keystep-controllers"});
  if (!lease.is_object()) return "";
  return lease["spec"].value("holderIdentity", "");
}

TEST_CASE("the image runs as a non-root user with keystep as its entrypoint and no build tools", "[image]") {
  auto inspected = podman({"image", "inspect", image()});
  REQUIRE(inspected.exit_code == 0);
  const auto config = nlohmann::json::parse(inspected.out)[0]["Config"];
  CHECK(config.value("User", "") == "10001:10001");
  CHECK(config["Entrypoint"] == nlohmann::json::array({"/usr/local/bin/keystep"}));
  auto version = podman({"run", "--rm", image(), "version"});
  INFO(version.describe());
  CHECK(version.exit_code == 0);
  CHECK(version.out == keystep({"version"}).out);
  // The runtime stage carries the binary and its libraries, not the toolchain.
  auto tools = podman({"run", "--rm", "--entrypoint", "/bin/sh", image(), "-c",
                       "for t in c++ g++ cmake make; do command -v $t; done; ls /src /build 2>/dev/null; true"});
  REQUIRE(tools.exit_code == 0);
  CHECK(tools.out.empty());
  auto missing = podman({"run", "--rm", "--entrypoint", "/bin/sh", image(), "-c", "ldd /usr/local/bin/keystep"});
  REQUIRE(missing.exit_code == 0);
  CHECK_THAT(missing.out, !Contains("not found"));
}

TEST_CASE("the chart's pod, run from the image as its ServiceAccount, signs a CertificateRequest and stops cleanly",
          "[image]") {
  Cluster c;
  c.apply_secret();
  Release release(c, {"--set", "storage.kind=sqlite", "--set", "replicaCount=1", "--set",
                      "certManager.approver.enabled=false", "--set", "fullnameOverride=" + unique("ks")});
  const std::string issuer = unique("image");
  c.apply(c.cluster_issuer(issuer));
  Pod pod(release, "keystep");
  pod.wait_ready();
  CHECK(pod.liveness() == 200);
  c.wait_issuer(issuer, "True", "Ready");
  c.create_request("via-image", c.make_csr("via-image", {"via-image.internal"}), cluster_ref(issuer));
  c.set_approval("via-image", "Approved");
  auto issued = c.wait_reason("via-image", "Issued");
  c.verify_issued(issued, "via-image");

  // The API over TLS under the Service's name, trusted through the root.
  const std::string host =
      required_kind(release.docs, "Service")["metadata"]["name"].as<std::string>() + "." + c.ns + ".svc";
  const std::string port = std::to_string(pod.https_port());
  auto roots = run({"curl", "-sS", "--fail", "--cacert", c.pki.root_cert().string(), "--resolve",
                    host + ":" + port + ":127.0.0.1", "https://" + host + ":" + port + "/roots"});
  INFO(roots.describe());
  CHECK(roots.exit_code == 0);
  const std::string log = pod.logs();
  INFO(log);
  CHECK_THAT(log, Contains("leadership acquired"));
  CHECK(log.find("forbidden") == std::string::npos);
  CHECK_THAT(lease_holder(c), Contains(pod.name()));
  auto uid = podman({"exec", pod.name(), "/usr/bin/id", "-u"});
  CHECK(without_trailing_newlines(uid.out) == "10001");

  // SIGTERM, as a kubelet sends it: keystep (PID 1) exits 0 and hands the Lease back.
  CHECK(pod.stop(30) == 0);
  CHECK(lease_holder(c).empty());
}

TEST_CASE("two pods of the chart's default install share PostgreSQL over verified TLS, and a stopped leader hands "
          "over at once",
          "[image]") {
  // a database that only speaks TLS, checked against its CA from storage.postgres.caSecret
  keystep::testing::PostgresServer postgres(keystep::testing::PostgresServer::Tls::required);
  const std::string database = postgres.create_database();
  Cluster c;
  c.apply_secret();
  must(c.kube.kubectl({"-n", c.ns, "create", "secret", "generic", "keystep-postgres",
                       "--from-file=password=" + postgres.password_file().string()}),
       "create the PostgreSQL Secret");
  must(c.kube.kubectl({"-n", c.ns, "create", "secret", "generic", "keystep-postgres-ca",
                       "--from-file=ca.crt=" + postgres.ca_file().string()}),
       "create the PostgreSQL CA Secret");
  Release release(c, {"--set", "storage.postgres.dsn=" + postgres.dsn(database) + " sslmode=verify-full", "--set",
                      "storage.postgres.existingSecret=keystep-postgres", "--set",
                      "storage.postgres.caSecret=keystep-postgres-ca", "--set",
                      "certManager.approver.enabled=false", "--set", "fullnameOverride=" + unique("ks")});
  REQUIRE(release.deployment["spec"]["replicas"].as<int>() == 2);
  const std::string issuer = unique("image-pg");
  c.apply(c.cluster_issuer(issuer));
  Pod a(release, "keystep-a");
  Pod b(release, "keystep-b");
  a.wait_ready();
  b.wait_ready();
  c.wait_issuer(issuer, "True", "Ready");
  c.create_request("first", c.make_csr("first", {"first.internal"}), cluster_ref(issuer));
  c.set_approval("first", "Approved");
  c.verify_issued(c.wait_reason("first", "Issued"), "first");

  std::string holder;
  REQUIRE(eventually([&] { holder = lease_holder(c); return !holder.empty(); }));
  Pod& leader = holder.rfind(a.name(), 0) == 0 ? a : b;
  Pod& follower = &leader == &a ? b : a;
  INFO("leader " << leader.name() << ", follower " << follower.name());
  CHECK(follower.logs().find("leadership acquired") == std::string::npos);

  // The chart's lease is 15s; a stopped leader releases it, so the follower
  // takes over well within it.
  CHECK(leader.stop(30) == 0);
  REQUIRE(eventually([&] { return lease_holder(c).rfind(follower.name(), 0) == 0; }, 10s));
  c.create_request("second", c.make_csr("second", {"second.internal"}), cluster_ref(issuer));
  c.set_approval("second", "Approved");
  c.verify_issued(c.wait_reason("second", "Issued"), "second");
  const std::string log = follower.logs();
  INFO(log);
  CHECK(log.find("forbidden") == std::string::npos);
  CHECK(follower.readiness() == 200);
  // Both requests are in the one database both pods used.
  auto rows = postgres.admin_query(database, "SELECT count(*) FROM certificates WHERE source = 'certificaterequest'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "2");
}

}  // namespace
}  // namespace keystep::integration
