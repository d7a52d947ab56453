// Cluster mode of the HTTP API: the provisioners of a StepClusterIssuer are
// served by every replica — the leader and a follower alike — and sign with
// that issuer's intermediate, claims and policy; provisioner names are
// unique cluster-wide, so a later issuer that reuses one (or one of
// keystep.yaml's) is not Ready with reason ProvisionerConflict until the
// clash is gone.

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/support/process.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// JwkKey is a provisioner key pair from `keystep crypto jwk create`.
struct JwkKey {
  nlohmann::json public_jwk;
  fs::path private_file;
};

JwkKey make_jwk(const TempDir& tmp, const std::string& name) {
  const fs::path pub = tmp / (name + ".pub.json"), priv = tmp / (name + ".priv.json");
  must(keystep({"crypto", "jwk", "create", pub.string(), priv.string(), "--no-password"}), "keystep crypto jwk create");
  return {nlohmann::json::parse(read_text(pub)), priv};
}

nlohmann::json jwk_provisioner(const std::string& name, const JwkKey& key) {
  return {{"name", name}, {"type", "JWK"}, {"key", key.public_jwk}};
}

// sha256_fingerprint is openssl's SHA-256 fingerprint of a PEM certificate,
// lowercase hex without colons.
std::string sha256_fingerprint(const fs::path& pem) {
  auto out = without_trailing_newlines(
      must(run({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem.string()}), "fingerprint").out);
  std::string hex;
  for (char ch : out.substr(out.find('=') + 1)) {
    if (ch != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return hex;
}

// certificate_args is `keystep ca certificate` against server (trusting the
// server's own root) with a provisioner key.
std::vector<std::string> certificate_args(const ServerProcess& server, const Pki& server_pki, const std::string& subject,
                                          const fs::path& crt, const fs::path& key, const std::string& provisioner,
                                          const fs::path& provisioner_key) {
  return {"ca", "certificate", subject, crt.string(), key.string(), "--ca-url", server.url(), "--root",
          server_pki.root_cert().string(), "--provisioner", provisioner, "--provisioner-key", provisioner_key.string()};
}

TEST_CASE("a StepClusterIssuer's provisioners are served by every replica and sign with the issuer's intermediate",
          "[operator][cluster]") {
  Cluster c;
  c.apply_secret();  // the server's own intermediate, unused by the issuer below
  // The issuer's CA: another PKI with its own root, in its own Secret.
  Pki team = init_pki(c.tmp, "team",
                      InitOptions{.name = "Team CA", .extra = {"--secret-namespace", c.ns, "--secret-name", "team-ca"}});
  must(c.kube.kubectl({"apply", "-f", team.secret_manifest().string()}), "apply the team Secret");
  const std::string issuer = unique("team");
  const std::string provisioner = unique("team-jwk");
  const JwkKey key = make_jwk(c.tmp, "team");
  auto object = c.cluster_issuer(
      issuer, {{"claims", {{"defaultDuration", "2h"}, {"maxDuration", "4h"}}},
               {"policy", {{"allow", {{"dns", {"*.team.internal"}}}}}},
               {"provisioners", {jwk_provisioner(provisioner, key)}}});
  object["spec"]["ca"]["secretRef"]["name"] = "team-ca";
  c.apply(object);

  ServerProcess leader(c.operator_options("leader.log"));
  REQUIRE(eventually([&] { return leader.count("leadership acquired") == 1; }));
  ServerProcess follower(c.operator_options("follower.log"));
  c.wait_issuer(issuer, "True", "Ready");
  for (const ServerProcess* server : {&leader, &follower}) {
    REQUIRE(eventually([&] { return lists(provisioner_names(*server, c.pki), provisioner); }));
    CHECK(lists(provisioner_names(*server, c.pki), "admin"));  // keystep.yaml's stays
  }
  CHECK(follower.count("leadership acquired") == 0);

  // Both replicas sign for the issuer's provisioner, with its intermediate.
  int n = 0;
  for (const ServerProcess* server : {&leader, &follower}) {
    const std::string name = "svc" + std::to_string(++n);
    const fs::path crt = c.tmp / (name + ".crt"), leaf_key = c.tmp / (name + ".key");
    must(keystep(certificate_args(*server, c.pki, name + ".team.internal", crt, leaf_key, provisioner, key.private_file)),
         "keystep ca certificate with the issuer's provisioner");
    auto verified = verify_chain(team.root_cert(), team.intermediate_cert(), crt);
    INFO(verified.describe());
    CHECK(verified.exit_code == 0);
    auto wrong_root = verify_chain(c.pki.root_cert(), c.pki.intermediate_cert(), crt);
    CHECK(wrong_root.exit_code != 0);
    auto text = must(run({"openssl", "x509", "-noout", "-text", "-in", crt.string()}), "x509").out;
    CHECK_THAT(text, Contains("DNS:" + name + ".team.internal"));
    CHECK(server->count("certificate issued") == 1);
  }
  // The issuer's policy and claims apply to its provisioner.
  auto outside = keystep(certificate_args(follower, c.pki, "evil.example.com", c.tmp / "evil.crt", c.tmp / "evil.key",
                                          provisioner, key.private_file));
  CHECK(outside.exit_code != 0);
  CHECK_THAT(outside.err, Contains("evil.example.com"));
  auto long_args = certificate_args(follower, c.pki, "long.team.internal", c.tmp / "long.crt", c.tmp / "long.key",
                                    provisioner, key.private_file);
  long_args.insert(long_args.end(), {"--not-after", "24h"});
  auto refused = keystep(long_args);
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("maximum certificate duration of 4h"));

  // keystep.yaml's provisioner still signs with the server's intermediate.
  const fs::path admin_crt = get_certificate(c.pki, follower, c.tmp.path(), "admin.localhost");
  CHECK(verify_chain(c.pki.root_cert(), c.pki.intermediate_cert(), admin_crt).exit_code == 0);

  // A certificate of the issuer renews over mTLS on a follower: the server
  // trusts the issuer's CA for client certificates.
  must(keystep({"ca", "renew", (c.tmp / "svc2.crt").string(), (c.tmp / "svc2.key").string(), "--ca-url",
                follower.url(), "--root", c.pki.root_cert().string(), "--force"}),
       "keystep ca renew (mTLS)");
  CHECK(verify_chain(team.root_cert(), team.intermediate_cert(), c.tmp / "svc2.crt").exit_code == 0);
  CHECK(follower.count("certificate renewed") == 1);

  // The issuer's roots are listed next to the server's, for clients to trust.
  CaHttp http(follower, c.pki);
  auto roots = json_body(http.get("/roots"))["crts"];
  CHECK(roots.size() == 2);
  CHECK(http.get("/root/" + sha256_fingerprint(team.root_cert())).status == 200);

  // Deleting the issuer stops its provisioner on every replica.
  must(c.kube.kubectl({"delete", "stepclusterissuer", issuer}), "delete the issuer");
  for (const ServerProcess* server : {&leader, &follower}) {
    REQUIRE(eventually([&] { return !lists(provisioner_names(*server, c.pki), provisioner); }));
  }
  auto gone = keystep(certificate_args(follower, c.pki, "late.team.internal", c.tmp / "late.crt", c.tmp / "late.key",
                                       provisioner, key.private_file));
  CHECK(gone.exit_code != 0);
}

// lego_run gets a certificate for `domain` from an ACME directory with
// http-01 answered on http_port; lego writes under dir/certificates.
RunResult lego_run(const Pki& trust, const std::string& directory, const fs::path& dir, const std::string& domain,
                   int http_port) {
  return run({"env", "LEGO_CA_CERTIFICATES=" + trust.root_cert().string(), "lego", "--server", directory, "--email",
              "ops@example.com", "--accept-tos", "--path", dir.string(), "--domains", domain, "--http",
              "--http.port", ":" + std::to_string(http_port), "run"},
             "", std::chrono::seconds(90));
}

TEST_CASE("a StepClusterIssuer's ACME provisioner is served by a follower with the issuer's intermediate and policy",
          "[operator][cluster][acme]") {
  Cluster c;
  c.apply_secret();
  Pki team = init_pki(c.tmp, "team",
                      InitOptions{.name = "Team CA", .extra = {"--secret-namespace", c.ns, "--secret-name", "team-ca"}});
  must(c.kube.kubectl({"apply", "-f", team.secret_manifest().string()}), "apply the team Secret");
  const std::string issuer = unique("acme-team");
  const std::string provisioner = unique("acme");
  const int http_port = testing::free_loopback_port();
  auto object = c.cluster_issuer(
      issuer, {{"policy", {{"allow", {{"dns", {"localhost"}}}}}},
               {"provisioners",
                {{{"name", provisioner},
                  {"type", "ACME"},
                  {"challenges", {"http-01"}},
                  {"validation", {{"http01Port", http_port}, {"attempts", 2}, {"backoff", "200ms"}}}}}}});
  object["spec"]["ca"]["secretRef"]["name"] = "team-ca";
  c.apply(object);

  ServerProcess leader(c.operator_options("leader.log"));
  REQUIRE(eventually([&] { return leader.count("leadership acquired") == 1; }));
  ServerProcess follower(c.operator_options("follower.log"));
  c.wait_issuer(issuer, "True", "Ready");
  REQUIRE(eventually([&] { return lists(provisioner_names(follower, c.pki), provisioner); }));

  // lego on the follower, trusting the server's own root for HTTPS.
  const std::string directory = "https://localhost:" + std::to_string(follower.port()) + "/acme/" + provisioner +
                                "/directory";
  auto got = lego_run(c.pki, directory, c.tmp / "lego", "localhost", http_port);
  INFO(got.describe() << "\nfollower log:\n" << follower.log());
  REQUIRE(got.exit_code == 0);
  const fs::path crt = c.tmp / "lego" / "certificates" / "localhost.crt";
  CHECK(verify_chain(team.root_cert(), team.intermediate_cert(), crt).exit_code == 0);
  CHECK(verify_chain(c.pki.root_cert(), c.pki.intermediate_cert(), crt).exit_code != 0);

  // The issuer's policy refuses other names before any challenge.
  auto outside = lego_run(c.pki, directory, c.tmp / "lego-evil", "evil.example.com", http_port);
  CHECK(outside.exit_code != 0);
  CHECK_THAT(outside.out + outside.err, Contains("rejectedIdentifier"));
}

TEST_CASE("a provisioner name already served makes the later issuer not Ready with reason ProvisionerConflict",
          "[operator][cluster]") {
  Cluster c;
  c.apply_secret();
  const JwkKey key = make_jwk(c.tmp, "shared");
  const std::string shared = unique("shared");
  const std::string first = unique("first"), second = unique("second"), squatter = unique("squatter");
  c.apply(c.cluster_issuer(first, {{"provisioners", {jwk_provisioner(shared, key)}}}));
  ServerProcess server(c.operator_options());
  c.wait_issuer(first, "True", "Ready");

  c.apply(c.cluster_issuer(second, {{"provisioners", {jwk_provisioner(shared, key)}}}));
  auto conflicted = c.wait_issuer(second, "False", "ProvisionerConflict");
  CHECK_THAT(condition(conflicted, "Ready").value("message", ""), Contains(shared) && Contains(first));
  // keystep.yaml's names are taken too.
  c.apply(c.cluster_issuer(squatter, {{"provisioners", {jwk_provisioner("admin", key)}}}));
  auto squatted = c.wait_issuer(squatter, "False", "ProvisionerConflict");
  CHECK_THAT(condition(squatted, "Ready").value("message", ""), Contains("admin") && Contains("keystep.yaml"));
  CHECK_THAT(c.describe("stepclusterissuer", second, false), Contains("ProvisionerConflict"));
  // The earlier issuer keeps serving; the token goes to it alone.
  CHECK(eventually([&] { return lists(provisioner_names(server, c.pki), shared); }));
  auto names = provisioner_names(server, c.pki);
  CHECK(std::count(names.begin(), names.end(), shared) == 1);
  CHECK(std::count(names.begin(), names.end(), "admin") == 1);

  // A StepIssuer has no provisioners: the field is refused, not ignored.
  nlohmann::json namespaced = {{"apiVersion", "keystep.dev/v1alpha1"},
                               {"kind", "StepIssuer"},
                               {"metadata", {{"name", "tenant"}, {"namespace", c.ns}}},
                               {"spec",
                                {{"ca", {{"secretRef", {{"name", "keystep-intermediate"}}}}},
                                 {"provisioners", {jwk_provisioner(unique("tenant"), key)}}}}};
  c.apply(namespaced);
  nlohmann::json tenant;
  eventually([&] {
    tenant = get_json(c.kube, {"-n", c.ns, "stepissuer", "tenant"});
    return condition(tenant, "Ready").value("reason", "") == "InvalidSpec";
  });
  INFO(tenant.dump(2));
  CHECK_THAT(condition(tenant, "Ready").value("message", ""), Contains("StepClusterIssuer"));

  // Once the first issuer goes, the second takes the name.
  must(c.kube.kubectl({"delete", "stepclusterissuer", first}), "delete the first issuer");
  c.wait_issuer(second, "True", "Ready");
  const fs::path crt = c.tmp / "taken.crt";
  must(keystep(certificate_args(server, c.pki, "taken.localhost", crt, c.tmp / "taken.key", shared, key.private_file)),
       "keystep ca certificate with the second issuer's provisioner");
  CHECK(verify_chain(c.pki.root_cert(), c.pki.intermediate_cert(), crt).exit_code == 0);
}

}  // namespace
}  // namespace keystep::integration
