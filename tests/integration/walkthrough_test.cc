// The README's walkthrough, run as a new user types it. The test takes the
// shell blocks out of README.md (so a change to the README is a change to
// this test) and runs them with bash, in order, in an empty directory beside
// the checkout's charts/, crds/, deploy/ and hack/. Only what a person at
// the keyboard does differently is changed, and each change is listed in
// as_typed(): `keystep serve` and the renew daemon go to the background, a
// placeholder such as `0x1f2e…` becomes the real serial, `sudo` is dropped
// (the tests run as root), the RHEL and macOS lines are skipped on Debian,
// and `helm install` (no helm here) renders the chart with helm's engine
// (hack/chart-render.sh) and applies it.
//
// The README's names and ports are used as written (ca.internal:9000): each
// case runs in its own network and mount namespace, with its own loopback,
// /etc/hosts (ca.internal and web.internal on 127.0.0.1), system trust store
// and /usr/local/bin, so it neither collides with parallel tests nor changes
// the machine. The Kubernetes case starts its kube-apiserver inside that
// namespace too; cert-manager's CRDs are installed first, and the test does
// cert-manager's part (a CertificateRequest for deploy/examples'
// Certificate, approved as cert-manager's approver does).

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/chart_fixture.h"
#include "tests/integration/cluster_fixture.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;

struct Block {
  std::string heading;  // the last markdown heading above the block
  std::string text;     // the block's lines, without the fences and the list indent
};

// shell_blocks returns the README's ```sh blocks (also those indented in a
// list item), each with the heading it sits under.
std::vector<Block> shell_blocks(const std::string& readme) {
  std::vector<Block> out;
  std::istringstream in(readme);
  std::string heading;
  bool in_block = false;
  bool shell = false;
  std::size_t indent = 0;
  std::string text;
  for (std::string line; std::getline(in, line);) {
    const std::size_t first = line.find_first_not_of(' ');
    const std::string stripped = first == std::string::npos ? "" : line.substr(first);
    if (stripped.starts_with("```")) {
      if (!in_block) {
        in_block = true;
        shell = stripped == "```sh";
        indent = first;
        text.clear();
      } else {
        in_block = false;
        if (shell) out.push_back({heading, text});
      }
      continue;
    }
    if (in_block) {
      text += (line.size() >= indent ? line.substr(indent) : stripped) + "\n";
    } else if (line.starts_with("#")) {
      heading = line.substr(line.find(' ') + 1);
    }
  }
  return out;
}

// block_under is the shell block under the heading that starts with
// `heading` and contains `needle`; a README without it fails the test.
std::string block_under(const std::vector<Block>& blocks, const std::string& heading, const std::string& needle) {
  for (const auto& b : blocks) {
    if (b.heading.starts_with(heading) && b.text.find(needle) != std::string::npos) return b.text;
  }
  FAIL("README.md has no shell block under \"" << heading << "\" containing \"" << needle << "\"");
  return "";
}

// logical_lines joins lines continued with a backslash (keeping the break,
// so the shell reads them as written).
std::vector<std::string> logical_lines(const std::string& block) {
  std::vector<std::string> out;
  std::istringstream in(block);
  std::string logical;
  for (std::string line; std::getline(in, line);) {
    logical += line;
    if (!line.empty() && line.back() == '\\') {
      logical += "\n";
      continue;
    }
    out.push_back(logical);
    logical.clear();
  }
  if (!logical.empty()) out.push_back(logical);
  return out;
}

// The README's placeholders and what the user puts there.
const std::map<std::string, std::string> kPlaceholders = {
    {"0x1f2e…", "0x$(serial_of web.crt)"},
    {"69bd1d02…", "$(keystep certificate fingerprint ca/certs/root_ca.crt)"},
};

// as_typed turns a README block into the bash a user effectively runs.
std::string as_typed(const std::string& block) {
  std::string out;
  bool other_os = false;
  std::string heredoc_end;  // inside a here-document: its lines are data, passed on as they are
  for (std::string line : logical_lines(block)) {
    if (!heredoc_end.empty()) {
      out += line + "\n";
      if (line == heredoc_end) heredoc_end.clear();
      continue;
    }
    std::smatch heredoc;
    if (std::regex_search(line, heredoc, std::regex("<<-?'?([A-Za-z_]+)'?"))) heredoc_end = heredoc[1].str();
    const std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (trimmed.starts_with("#")) {
      // "# RHEL/Fedora" and "# macOS" head lines for other systems; "# Debian/Ubuntu" ours.
      other_os = trimmed.find("RHEL") != std::string::npos || trimmed.find("macOS") != std::string::npos;
      continue;
    }
    if (other_os) continue;
    for (const auto& [placeholder, value] : kPlaceholders) replace_all(line, placeholder, value);
    if (line.find("…") != std::string::npos) FAIL("a README command has a placeholder the walkthrough does not know:\n" << line);
    std::size_t at;
    while ((at = line.find("sudo ")) != std::string::npos) line.erase(at, 5);
    out += "echo '+ " + [&] {
      std::string shown = line.substr(0, line.find('\n'));
      replace_all(shown, "'", "'\\''");
      return shown;
    }() + "'\n";
    if (trimmed.starts_with("keystep serve")) {
      // a server: in the background (a second terminal), then wait until it answers
      out += "( exec " + trimmed + "\n) >>serve.log 2>&1 &\necho $! >>.pids\nwait_healthy\n";
    } else if (trimmed.find("--daemon") != std::string::npos) {
      // the renew daemon runs for ever: it must still be running (renewing nothing yet) after 4 s
      out += "( exec " + trimmed + "\n) >>daemon.log 2>&1 &\ndaemon=$!\nsleep 4\n"
             "kill -0 $daemon || { echo 'the renew daemon exited:'; cat daemon.log; exit 1; }\n"
             "kill $daemon; wait $daemon || true\necho 'renew daemon: running'\n";
    } else if (trimmed.starts_with("helm install ")) {
      // no helm here: its engine renders the chart with the same flags; CRDs first, as helm does
      const std::string install = "helm install keystep charts/keystep -n keystep";
      REQUIRE(trimmed.starts_with(install));
      out += "kubectl apply -f charts/keystep/crds/\nkubectl wait --for condition=established --timeout 60s crd --all\n"
             ">rendered.yaml hack/chart-render.sh charts/keystep --release keystep --namespace keystep" +
             trimmed.substr(install.size()) + "\nkubectl apply -f rendered.yaml\n";
    } else {
      out += line + "\n";
    }
  }
  return out;
}

constexpr const char* kPreamble = R"(set -euo pipefail
serial_of() { keystep certificate inspect "$1" | sed -n 's/^Serial number: *\([0-9a-f]*\) .*/\1/p'; }
wait_healthy() {
  for _ in $(seq 100); do
    curl -sf --cacert ca/certs/root_ca.crt https://ca.internal:9000/health >/dev/null && return 0
    sleep 0.2
  done
  echo "keystep serve never answered on https://ca.internal:9000/health:"; cat serve.log; return 1
}
)";

void bind_mount(const fs::path& from, const fs::path& to) {
  if (mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    FAIL("mount --bind " << from << " " << to << ": " << std::strerror(errno));
  }
}

// Machine is this test process's own network and mount namespace (which
// every process it starts inherits): a loopback with nothing on it, the
// README's names in /etc/hosts, and private copies of the system trust store
// and /usr/local/bin (which holds only keystep), so `update-ca-certificates`
// and the systemd unit's /usr/local/bin/keystep are real but change nothing
// outside. Processes it leaves behind are killed through `.pids`.
struct Machine {
  TempDir root;
  fs::path work = root / "work";
  fs::path source = keystep::testing::KubeApiServer::source_dir();

  Machine() {
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
      FAIL("unshare(CLONE_NEWNS | CLONE_NEWNET): " << std::strerror(errno)
                                                   << " (the walkthrough needs root for its private network)");
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) FAIL("mount --make-rprivate /: " << std::strerror(errno));
    must(run({"ip", "link", "set", "lo", "up"}), "ip link set lo up (iproute2)");
    write_text(root / "hosts", "127.0.0.1 localhost ca.internal web.internal\n::1 localhost\n");
    bind_mount(root / "hosts", "/etc/hosts");
    for (const std::string dir : {"/etc/ssl/certs", "/usr/local/share/ca-certificates"}) {
      const fs::path copy = root.path() / fs::path(dir).filename();
      must(run({"cp", "-a", dir, copy.string()}), "copy " + dir);
      bind_mount(copy, dir);
    }
    fs::create_directories(root / "bin");
    fs::copy_file(keystep_bin(), root / "bin" / "keystep");
    bind_mount(root / "bin", "/usr/local/bin");
    fs::create_directories(work / "home" / ".kube");
    for (const std::string dir : {"charts", "crds", "deploy", "hack"}) fs::create_directory_symlink(source / dir, work / dir);
  }

  ~Machine() {
    std::ifstream pids(work / ".pids");
    for (pid_t pid; pids >> pid;) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 50 && waitpid(pid, nullptr, WNOHANG) == 0 && kill(pid, 0) == 0; ++i) usleep(100'000);
      kill(pid, SIGKILL);
    }
  }

  // bash runs the script in the work directory as the user's shell would,
  // with keystep on PATH and HOME in the work directory.
  RunResult bash(const std::string& script, std::chrono::seconds timeout = std::chrono::seconds(300)) {
    const fs::path file = work / ("step-" + std::to_string(++steps) + ".sh");
    write_text(file, std::string(kPreamble) + script);
    return run({"env", "HOME=" + (work / "home").string(), "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "bash", "-c", "cd " + work.string() + " && exec bash " + file.string()},
               "", timeout);
  }

  int steps = 0;
};

std::string readme() { return read_text(keystep::testing::KubeApiServer::source_dir() / "README.md"); }

// inline_command is the README's inline code `<prefix>...` (a command in the prose).
std::string inline_command(const std::string& prefix) {
  const std::string text = readme();
  std::smatch found;
  if (!std::regex_search(text, found, std::regex("`(" + prefix + "[^`]*)`"))) {
    FAIL("README.md has no inline command starting with \"" << prefix << "\"");
  }
  return found[1].str();
}

// chain_verifies says whether openssl verifies the chain file (leaf first) up to root.
bool chain_verifies(const fs::path& root, const fs::path& chain) {
  return run({"openssl", "verify", "-CAfile", root.string(), "-untrusted", chain.string(), chain.string()})
             .exit_code == 0;
}

// pem_body is a PEM certificate up to its END line, to find it in a chain.
std::string pem_body(const fs::path& pem) {
  const std::string text = read_text(pem);
  return text.substr(0, text.find("-----END"));
}

}  // namespace

TEST_CASE("the README walkthrough on a host: ceremony, server, certificate, renew, revoke, trust, rotation",
          "[docs][walkthrough]") {
  Machine m;
  const auto blocks = shell_blocks(readme());
  const std::string script =
      as_typed(block_under(blocks, "1. The ceremony", "keystep init")) +
      as_typed(block_under(blocks, "2. The server", "keystep serve")) +
      as_typed(block_under(blocks, "3. Getting certificates", "keystep ca certificate")) +
      as_typed(block_under(blocks, "3. Getting certificates", "keystep ca revoke")) +
      // a host that does not trust the root yet cannot talk to the CA
      "! curl -sf https://ca.internal:9000/health >/dev/null\n" +
      as_typed(block_under(blocks, "5. Hosts outside the cluster", "update-ca-certificates")) +
      "echo \"trusted: $(curl -sf https://ca.internal:9000/health)\"\n" +
      as_typed(block_under(blocks, "6. Rotating the intermediate", "sign-intermediate")) +
      "openssl verify -CAfile ca/certs/root_ca.crt ca-2027-live/certs/intermediate_ca.crt\n";
  const auto r = m.bash(script);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // the runbook's standalone switch: replace the files as it says, restart the server (stop, start as in
  // section 2), and the server signs with the new intermediate
  const auto switched = m.bash(
      "kill $(cat .pids) && : >.pids\n"
      "while curl -s --cacert ca/certs/root_ca.crt https://ca.internal:9000/health >/dev/null; do sleep 0.2; done\n" +
      as_typed(inline_command("cp ca-2027-live/")) + as_typed(block_under(blocks, "2. The server", "keystep serve")) +
      "curl -sf --cacert ca/certs/root_ca.crt https://ca.internal:9000/intermediates.pem >served.pem\n"
      "keystep ca certificate web.internal web-2.crt web-2.key --ca-url https://ca.internal:9000 "
      "--root ca/certs/root_ca.crt --provisioner admin --provisioner-key ca/secrets/admin.jwk "
      "--password-file pw.txt\n");
  INFO(switched.describe());
  REQUIRE(switched.exit_code == 0);
  const auto new_body = pem_body(m.work / "ca-2027-live/certs/intermediate_ca.crt");
  CHECK(read_text(m.work / "served.pem").find(new_body) != std::string::npos);
  CHECK(read_text(m.work / "web-2.crt").find(new_body) != std::string::npos);
  // ca certificate wrote a chain that openssl verifies
  CHECK(chain_verifies(m.work / "ca/certs/root_ca.crt", m.work / "web.crt"));
  CHECK(r.out.find("renew daemon: running") != std::string::npos);
  CHECK(r.out.find("web.crt: revoked") != std::string::npos);  // OCSP, after the revoke
  CHECK(r.out.find("trusted: {\"status\":\"ok\"}") != std::string::npos);
  CHECK(r.out.find("ca-2027-live/certs/intermediate_ca.crt: OK") != std::string::npos);
  const std::string crl = must(run({"openssl", "crl", "-inform", "DER", "-in", (m.work / "ca.crl").string(), "-noout",
                                    "-text"}),
                               "openssl crl")
                              .out;
  CHECK(crl.find("Key Compromise") != std::string::npos);

  // the README's systemd unit, as its instance keystep-renew@web, is a valid unit
  const std::string readme_text = readme();
  std::smatch unit;
  REQUIRE(std::regex_search(readme_text, unit, std::regex("```ini\n([\\s\\S]*?)```")));
  write_text(m.work / "keystep-renew@web.service", unit[1].str());
  const auto analyze = run({"systemd-analyze", "verify", (m.work / "keystep-renew@web.service").string()});
  INFO(analyze.describe());
  CHECK(analyze.exit_code == 0);
}

// The cluster of the Kubernetes cases: a kube-apiserver started inside the
// Machine's network, its kubeconfig as ~/.kube/config, and cert-manager's
// CRDs installed, as in a cluster that already runs cert-manager.
keystep::testing::KubeApiServer& cluster_for(Machine& m) {
  auto& kube = keystep::testing::shared_kube_apiserver();
  fs::copy_file(kube.kubeconfig_path(), m.work / "home/.kube/config");
  must(kube.kubectl({"apply", "-f", (m.source.parent_path() / "shared/testdata/cert-manager-crds").string()}),
       "apply cert-manager's CRDs");
  return kube;
}

// approver_may asks the API server as cert-manager's approver asks before it
// approves a request: a SubjectAccessReview for verb approve on
// cert-manager.io signers named "<kind>.<group>/*", as its ServiceAccount.
bool approver_may(keystep::testing::KubeApiServer& kube, const std::string& signer) {
  const nlohmann::json review = {
      {"apiVersion", "authorization.k8s.io/v1"},
      {"kind", "SubjectAccessReview"},
      {"spec",
       {{"user", "system:serviceaccount:cert-manager:cert-manager"},
        {"groups", {"system:serviceaccounts", "system:serviceaccounts:cert-manager", "system:authenticated"}},
        {"resourceAttributes",
         {{"group", "cert-manager.io"}, {"resource", "signers"}, {"verb", "approve"}, {"name", signer}}}}}};
  const auto answer = must(kube.kubectl({"create", "-o", "json", "-f", "-"}, review.dump()), "SubjectAccessReview");
  return nlohmann::json::parse(answer.out)["status"].value("allowed", false);
}

TEST_CASE("the README walkthrough in Kubernetes: ceremony, Secret, helm install", "[docs][walkthrough][kube]") {
  Machine m;
  auto& kube = cluster_for(m);
  const auto blocks = shell_blocks(readme());
  // pg-password.txt is the database user's password, which the user has
  const std::string script = as_typed(block_under(blocks, "1. The ceremony", "keystep init")) +
                             "printf 'db-password\\n' > pg-password.txt\n" +
                             as_typed(block_under(blocks, "4. In Kubernetes", "helm install"));
  const auto r = m.bash(script);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // what `helm install` made is there, as the flags asked
  CHECK(must(kube.kubectl({"-n", "keystep", "get", "deployment", "keystep"}), "get deployment").exit_code == 0);
  CHECK(must(kube.kubectl({"-n", "keystep", "get", "pdb", "keystep"}), "get pdb").exit_code == 0);
  const auto issuer = get_json(kube, {"stepclusterissuer", "internal"});
  REQUIRE(issuer.is_object());
  CHECK(issuer.at("spec").at("ca").at("secretRef") == nlohmann::json{{"name", "keystep-intermediate"}, {"namespace", "keystep"}});
  CHECK(r.out.find("internal") != std::string::npos);  // `kubectl get stepclusterissuer internal` printed it
  const auto secret = get_json(kube, {"-n", "keystep", "secret", "keystep-postgres"});
  REQUIRE(secret.is_object());
  CHECK(unbase64(secret.at("data").at("password").get<std::string>()) == "db-password\n");
  const auto deployment = must(kube.kubectl({"-n", "keystep", "get", "deployment", "keystep", "-o", "yaml"}), "get").out;
  CHECK(deployment.find("registry.example/keystep") != std::string::npos);
  const auto config = must(kube.kubectl({"-n", "keystep", "get", "configmap", "-o", "yaml"}), "get configmaps").out;
  CHECK(config.find("host=postgres.db dbname=keystep user=keystep") != std::string::npos);
  CHECK(config.find("ca.internal") != std::string::npos);
  // the chart lets cert-manager's approver approve for Keystep's issuers, and for no one else
  CHECK(approver_may(kube, "stepclusterissuers.keystep.dev/*"));
  CHECK(approver_may(kube, "stepissuers.keystep.dev/*"));
  CHECK_FALSE(approver_may(kube, "issuers.cert-manager.io/*"));
}

TEST_CASE("the README walkthrough in Kubernetes without the chart: issuer, Certificate, rotation",
          "[docs][walkthrough][kube]") {
  Machine m;
  auto& kube = cluster_for(m);
  const auto blocks = shell_blocks(readme());
  const std::string script = as_typed(block_under(blocks, "1. The ceremony", "keystep init")) +
                             as_typed(block_under(blocks, "4. In Kubernetes", "kind: StepClusterIssuer"));
  const auto r = m.bash(script);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);

  // the issuer the README describes becomes Ready, and `kubectl get` says so
  nlohmann::json internal;
  const bool ready = eventually([&] {
    internal = get_json(kube, {"stepclusterissuer", "internal"});
    return condition(internal, "Ready").value("status", "") == "True";
  });
  INFO(internal.dump(2));
  INFO(read_text(m.work / "serve.log"));
  REQUIRE(ready);
  const auto listed = must(kube.kubectl({"get", "stepclusterissuers"}), "get stepclusterissuers").out;
  INFO(listed);
  CHECK(std::regex_search(listed, std::regex("internal +True")));
  // cert-manager's approver may approve for Keystep's issuers, and for no one else
  CHECK(approver_may(kube, "stepclusterissuers.keystep.dev/*"));
  CHECK(approver_may(kube, "stepissuers.keystep.dev/*"));
  CHECK_FALSE(approver_may(kube, "issuers.cert-manager.io/*"));

  // cert-manager's part for deploy/examples/certificate.yaml: the Certificate, then its request, approved
  must(kube.kubectl({"apply", "-f", (m.work / "deploy/examples/certificate.yaml").string()}), "apply the Certificate");
  const auto certificate = get_json(kube, {"-n", "default", "certificate", "web"});
  REQUIRE(certificate.is_object());
  const auto spec = certificate["spec"];
  const std::string csr = make_csr(m.work, "web-tls", spec["dnsNames"].get<std::vector<std::string>>(),
                                   spec["commonName"].get<std::string>());
  const auto approve_and_wait = [&](const std::string& name) {
    create_request(kube, "default", name, csr, spec["issuerRef"],
                   {{"duration", spec["duration"]}, {"usages", spec["usages"]}});
    set_approval(kube, "default", name, "Approved");
    const auto cr = wait_reason(kube, "default", name, "Issued");
    write_text(m.work / (name + ".crt"), unbase64(cr["status"]["certificate"].get<std::string>()));
  };
  const fs::path root_cert = m.work / "ca/certs/root_ca.crt";
  approve_and_wait("web-1");
  const auto described = must(kube.kubectl({"-n", "default", "describe", "certificaterequest", "web-1"}), "describe").out;
  INFO(described);
  CHECK(described.find("Issued") != std::string::npos);
  CHECK(chain_verifies(root_cert, m.work / "web-1.crt"));

  // the runbook: a new intermediate from the same root, applied as a Secret; the issuer switches
  const std::string before =
      get_json(kube, {"stepclusterissuer", "internal"})["status"]["intermediate"].value("sha256", "");
  const auto rotated = m.bash(as_typed(block_under(blocks, "6. Rotating the intermediate", "sign-intermediate")) +
                              as_typed(inline_command("kubectl apply -f ca-2027-live/")));
  INFO(rotated.describe());
  REQUIRE(rotated.exit_code == 0);
  REQUIRE(eventually([&] {
    const auto issuer = get_json(kube, {"stepclusterissuer", "internal"});
    const std::string now = issuer.is_object() ? issuer["status"]["intermediate"].value("sha256", "") : "";
    return !now.empty() && now != before;
  }));
  approve_and_wait("web-2");
  CHECK(chain_verifies(root_cert, m.work / "web-2.crt"));
  CHECK(read_text(m.work / "web-2.crt").find(pem_body(m.work / "ca-2027-live/certs/intermediate_ca.crt")) !=
        std::string::npos);
  const auto events = must(kube.kubectl({"get", "events", "-A", "--field-selector", "reason=IntermediateRotated"}),
                           "get events").out;
  CHECK(events.find("IntermediateRotated") != std::string::npos);
}

}  // namespace keystep::integration
