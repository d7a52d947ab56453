// The operator when things go wrong around it: the API server restarts
// under its watches (every watch breaks, and resuming from the old
// resourceVersion is 410 Gone), it runs with in-cluster config whose token
// file rotates (and is briefly wrong), the intermediate nears its expiry,
// and two replicas without leader election race for the same requests on
// one PostgreSQL. Nothing may be lost, and nothing signed twice.

#include <openssl/bn.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster_fixture.h"
#include "tests/support/postgres.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// serial_of is the decimal serial of the first certificate of a
// CertificateRequest's status.certificate.
std::string serial_of(Cluster& c, const nlohmann::json& cr, const std::string& name) {
  const fs::path chain = c.tmp / (name + ".serial.pem");
  write_text(chain, unbase64(cr["status"]["certificate"].get<std::string>()));
  auto hex = without_trailing_newlines(
      must(run({"openssl", "x509", "-noout", "-serial", "-in", chain.string()}), "x509 -serial").out);
  hex = hex.substr(hex.find('=') + 1);
  // Decimal, as the ledger keeps it.
  BIGNUM* bn = nullptr;
  REQUIRE(BN_hex2bn(&bn, hex.c_str()) > 0);
  char* dec = BN_bn2dec(bn);
  std::string out(dec);
  OPENSSL_free(dec);
  BN_free(bn);
  return out;
}

TEST_CASE("a kube-apiserver restart breaks every watch, and the 410 relist that follows loses no request or deletion",
          "[operator][resilience]") {
  Cluster c;
  c.apply_secret();
  const std::string steady = unique("steady"), doomed = unique("doomed");
  const std::string doomed_provisioner = unique("doomed-jwk");
  must(keystep({"crypto", "jwk", "create", (c.tmp / "d.pub").string(), (c.tmp / "d.priv").string(), "--no-password"}),
       "jwk create");
  c.apply(c.cluster_issuer(steady));
  c.apply(c.cluster_issuer(
      doomed, {{"provisioners",
                {{{"name", doomed_provisioner}, {"key", nlohmann::json::parse(read_text(c.tmp / "d.pub"))}}}}}));
  ServerProcess server(c.operator_options());
  c.wait_issuer(steady, "True");
  c.wait_issuer(doomed, "True");
  REQUIRE(eventually([&] { return lists(provisioner_names(server, c.pki), doomed_provisioner); }));
  c.create_request("before", c.make_csr("before", {"before.internal"}), cluster_ref(steady));
  c.set_approval("before", "Approved");
  c.wait_reason("before", "Issued");
  const auto relists_before = server.count("informer relisting");

  c.kube.restart_apiserver();
  // Changes made at once on the new server, before the operator's watches
  // are back: it can only learn them by relisting.
  c.create_request("after", c.make_csr("after", {"after.internal"}), cluster_ref(steady));
  c.set_approval("after", "Approved");
  must(c.kube.kubectl({"delete", "stepclusterissuer", doomed}), "delete an issuer");

  auto issued = c.wait_reason("after", "Issued", 60s);
  c.verify_issued(issued, "after");
  REQUIRE(eventually([&] { return !lists(provisioner_names(server, c.pki), doomed_provisioner); }, 60s));
  INFO(server.log());
  CHECK(server.count("informer relisting") > relists_before);
  CHECK_THAT(server.log(), Contains("reason=") && Contains("resource=certificaterequests"));
  CHECK(server.count("certificaterequest issued") == 2);
  // The watch is live again: a request made now is signed too.
  c.create_request("later", c.make_csr("later", {"later.internal"}), cluster_ref(steady));
  c.set_approval("later", "Approved");
  c.wait_reason("later", "Issued");
}

TEST_CASE("in-cluster config from the service-account files and KUBERNETES_SERVICE_* finds the API server, "
          "and a rotated token file is read again",
          "[operator][resilience]") {
  Cluster c;
  c.apply_secret();
  const std::string issuer = unique("incluster");
  c.apply(c.cluster_issuer(issuer));
  // The files a pod's service-account mount holds.
  const fs::path mount = c.tmp / "serviceaccount";
  fs::create_directories(mount);
  write_text(mount / "token", c.kube.admin_token());
  write_text(mount / "ca.crt", c.kube.ca_pem());
  write_text(mount / "namespace", c.ns);
  fs::create_directories(c.tmp / "home");
  auto options = serve_options(c.pki);
  options.log_file = c.tmp / "incluster.log";
  options.extra_args = {"--kubernetes", "--lease-duration", "3s"};  // no kubeconfig, no lease namespace
  options.env = {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                 {"KUBERNETES_SERVICE_PORT", std::to_string(c.kube.port())},
                 {"KEYSTEP_SERVICE_ACCOUNT_DIR", mount.string()},
                 {"KUBECONFIG", ""},
                 {"HOME", (c.tmp / "home").string()}};
  ServerProcess server(options);
  c.wait_issuer(issuer, "True");
  // The Lease is in the namespace of the mount's namespace file.
  REQUIRE(eventually([&] { return get_json(c.kube, {"-n", c.ns, "lease", "keystep-controllers"}).is_object(); }));
  c.create_request("first", c.make_csr("first", {"first.internal"}), cluster_ref(issuer));
  c.set_approval("first", "Approved");
  c.wait_reason("first", "Issued");

  // The kubelet rotates the token: while the file is wrong nothing is
  // signed, and the new token is used without a restart.
  write_text(mount / "token", "not-a-valid-token");
  c.create_request("rotated", c.make_csr("rotated", {"rotated.internal"}), cluster_ref(issuer));
  c.set_approval("rotated", "Approved");
  std::this_thread::sleep_for(3s);
  const auto while_wrong = condition(c.request("rotated"), "Ready");
  CHECK((while_wrong.is_null() || while_wrong.value("reason", "") != "Issued"));
  must(c.kube.kubectl({"-n", c.ns, "create", "serviceaccount", "keystep"}), "create serviceaccount");
  must(c.kube.kubectl({"create", "clusterrolebinding", unique("keystep"), "--clusterrole", "cluster-admin",
                       "--serviceaccount", c.ns + ":keystep"}),
       "bind the service account");
  const std::string rotated = c.kube.create_token(c.ns, "keystep", c.kube.service_account_issuer());
  write_text(mount / "token", rotated);
  c.wait_reason("rotated", "Issued", 60s);
  // Tokens never reach the log.
  const std::string log = server.log();
  CHECK(log.find(rotated) == std::string::npos);
  CHECK(log.find(c.kube.admin_token()) == std::string::npos);
  CHECK(log.find("not-a-valid-token") == std::string::npos);
}

TEST_CASE("an intermediate within 30 days of expiry sets IntermediateExpiring and a Warning Event, and still signs",
          "[operator][resilience]") {
  Cluster c;
  // A new intermediate of 10 days for the init key, signed offline by the
  // root; the Secret carries it instead of init's 5-year one.
  c.apply_secret();
  auto secret = get_json(c.kube, {"-n", c.ns, "secret", "keystep-intermediate"});
  REQUIRE(secret.is_object());
  const fs::path key = c.tmp / "short.key", csr = c.tmp / "short.csr", crt = c.tmp / "short.crt";
  write_text(key, unbase64(secret["data"]["tls.key"].get<std::string>()));
  must(run({"openssl", "req", "-new", "-key", key.string(), "-subj", "/CN=Short-lived Intermediate", "-out",
            csr.string()}),
       "openssl req");
  must(keystep({"ca", "sign-intermediate", csr.string(), crt.string(), "--root-cert", c.pki.root_cert().string(),
                "--root-key", c.pki.root_key().string(), "--password-file", c.pki.password_file.string(),
                "--duration", "240h"}),
       "keystep ca sign-intermediate --duration 240h");
  nlohmann::json short_secret = {{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"type", "kubernetes.io/tls"},
                                 {"metadata", {{"name", "short-ca"}, {"namespace", c.ns}}},
                                 {"data",
                                  {{"tls.crt", base64(read_text(crt))},
                                   {"tls.key", secret["data"]["tls.key"]},
                                   {"ca.crt", secret["data"]["ca.crt"]}}}};
  c.apply(short_secret);
  const std::string issuer = unique("expiring");
  auto object = c.cluster_issuer(issuer);
  object["spec"]["ca"]["secretRef"]["name"] = "short-ca";
  c.apply(object);
  ServerProcess server(c.operator_options());

  auto ready = c.wait_issuer(issuer, "True", "Ready");
  nlohmann::json expiring;
  eventually([&] {
    expiring = condition(get_json(c.kube, {"stepclusterissuer", issuer}), "IntermediateExpiring");
    return expiring.is_object();
  });
  INFO(expiring.dump(2));
  REQUIRE(expiring.is_object());
  CHECK(expiring["status"] == "True");
  CHECK(expiring["reason"] == "ExpiresSoon");
  CHECK_THAT(expiring.value("message", ""), Contains("Short-lived Intermediate") && Contains("short-ca"));
  REQUIRE(eventually([&] {
    auto d = c.describe("stepclusterissuer", issuer, false);
    return d.find("IntermediateExpiring") != std::string::npos && d.find("Warning") != std::string::npos;
  }));
  // A certificate asked for longer than the intermediate lives ends with it.
  c.create_request("near", c.make_csr("near", {"near.internal"}), cluster_ref(issuer), {{"duration", "24h0m0s"}});
  c.set_approval("near", "Approved");
  auto issued = c.wait_reason("near", "Issued");
  CHECK(unbase64(issued["status"]["ca"].get<std::string>()) == read_text(c.pki.root_cert()));

  // An ordinary issuer has no such condition.
  const std::string healthy = unique("healthy");
  c.apply(c.cluster_issuer(healthy));
  auto fine = c.wait_issuer(healthy, "True", "Ready");
  CHECK(condition(fine, "IntermediateExpiring").is_null());
}

TEST_CASE("two replicas without leader election race for every request on one PostgreSQL, and each is signed once",
          "[operator][resilience][replicas]") {
  keystep::testing::PostgresServer postgres;
  Cluster c;
  c.apply_secret();
  const std::string database = postgres.create_database();
  YAML::Node config = YAML::LoadFile(c.pki.config().string());
  config["storage"] = YAML::Load("{kind: postgres, dsn: \"" + postgres.dsn(database) +
                                 "\", passwordFile: " + postgres.password_file().string() + "}");
  YAML::Emitter out;
  out << config;
  std::ofstream(c.pki.config(), std::ios::trunc) << out.c_str() << "\n";
  const std::string issuer = unique("race");
  c.apply(c.cluster_issuer(issuer));
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (const char* name : {"a.log", "b.log"}) {
    auto options = c.operator_options(name);
    options.extra_args.push_back("--leader-election=false");
    replicas.push_back(std::make_unique<ServerProcess>(options));
  }
  c.wait_issuer(issuer, "True");

  constexpr int kRequests = 12;
  for (int i = 0; i < kRequests; ++i) {
    const std::string name = "race-" + std::to_string(i);
    c.create_request(name, c.make_csr(name, {name + ".internal"}), cluster_ref(issuer));
    c.set_approval(name, "Approved");
  }
  std::map<std::string, std::string> serial_by_uid;
  for (int i = 0; i < kRequests; ++i) {
    const std::string name = "race-" + std::to_string(i);
    auto issued = c.wait_reason(name, "Issued", 60s);
    c.verify_issued(issued, name);
    serial_by_uid[issued["metadata"]["uid"].get<std::string>()] = serial_of(c, issued, name);
  }
  // Both replicas act as leader; the ledger holds one certificate per
  // request: the one its status carries.
  WARN("certificaterequest log lines: replica a " << replicas[0]->count("certificaterequest") << ", replica b "
                                                   << replicas[1]->count("certificaterequest"));
  auto rows = postgres.admin_query(database,
                                   "SELECT request_id, serial FROM certificates WHERE source = 'certificaterequest'");
  CHECK(rows.size() == static_cast<std::size_t>(kRequests));
  std::map<std::string, std::string> ledger;
  for (const auto& row : rows) {
    CHECK(ledger.count(row[0]) == 0);
    ledger[row[0]] = row[1];
  }
  CHECK(ledger == serial_by_uid);
}

}  // namespace
}  // namespace keystep::integration
