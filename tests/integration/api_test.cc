// The step-ca compatible read API over the wire (reference §0, §1, §6):
// status codes, bodies byte for byte, content types, the /1.0 mounts, HEAD,
// request ids, pagination. Called with keystep's HTTP client and with curl,
// each trusting only the PKI's root.

#include <yaml-cpp/yaml.h>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/crypto/certificate.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("GET /health answers 200 {\"status\":\"ok\"} as JSON with a trailing newline", "[api]") {
  RunningCa ca({.password = false});
  auto r = ca.http.get("/health");
  CHECK(r.status == 200);
  CHECK(r.body == "{\"status\":\"ok\"}\n");
  CHECK(r.content_type == "application/json");
}

TEST_CASE("HEAD /health answers 200 with no body", "[api]") {
  RunningCa ca({.password = false});
  auto r = ca.http.head("/health");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
}

TEST_CASE("GET /version answers 200 with a version string", "[api]") {
  RunningCa ca({.password = false});
  auto r = ca.http.get("/version");
  CHECK(r.status == 200);
  auto body = json_body(r);
  REQUIRE(body.contains("version"));
  CHECK_FALSE(body["version"].get<std::string>().empty());
}

TEST_CASE("GET /roots answers 201 with the root PEM and /roots.pem with the PEM itself", "[api]") {
  RunningCa ca({.password = false});
  const std::string root = read_text(ca.pki.root_cert());
  auto roots = ca.http.get("/roots");
  CHECK(roots.status == 201);
  CHECK(json_body(roots) == nlohmann::json{{"crts", {root}}});
  CHECK(roots.body.back() == '\n');

  auto pem = ca.http.get("/roots.pem");
  CHECK(pem.status == 200);
  CHECK(pem.content_type == "application/x-pem-file");
  CHECK(pem.body == root);
}

TEST_CASE("GET /intermediates answers 201 with the intermediate and /intermediates.pem with its PEM", "[api]") {
  RunningCa ca({.password = false});
  const std::string intermediate = read_text(ca.pki.intermediate_cert());
  auto list = ca.http.get("/intermediates");
  CHECK(list.status == 201);
  CHECK(json_body(list) == nlohmann::json{{"crts", {intermediate}}});
  auto pem = ca.http.get("/intermediates.pem");
  CHECK(pem.status == 200);
  CHECK(pem.body == intermediate);
}

TEST_CASE("GET /root/{sha256} answers 200 {\"ca\":PEM} for the root's fingerprint in any case, with colons", "[api]") {
  RunningCa ca({.password = false});
  const nlohmann::json expected = {{"ca", read_text(ca.pki.root_cert())}};
  // openssl's form is upper case with colons: AB:CD:...
  for (const auto& fp : {sha256_hex(ca.pki.root_cert()), sha256_fingerprint(ca.pki.root_cert())}) {
    INFO(fp);
    auto r = ca.http.get("/root/" + fp);
    CHECK(r.status == 200);
    CHECK(json_body(r) == expected);
  }
}

TEST_CASE("GET /root/{sha256} of an unknown fingerprint answers 404 naming the normalised fingerprint", "[api]") {
  RunningCa ca({.password = false});
  const std::string unknown(64, 'a');
  auto r = ca.http.get("/root/" + std::string(64, 'A'));
  CHECK(r.status == 404);
  CHECK(r.body ==
        "{\"status\":404,\"message\":\"root certificate with fingerprint \\\"" + unknown + "\\\" was not found\"}\n");
}

TEST_CASE("an unknown path answers 404", "[api]") {
  RunningCa ca({.password = false});
  CHECK(ca.http.get("/no/such/route").status == 404);
  CHECK(ca.http.get("/1.0/no-such-route").status == 404);
}

TEST_CASE("every read route answers the same under / and /1.0/", "[api]") {
  RunningCa ca({.password = false});
  const std::string fp = sha256_hex(ca.pki.root_cert());
  for (const std::string& path :
       std::vector<std::string>{"/health", "/version", "/roots", "/roots.pem", "/root/" + fp, "/intermediates",
                                "/intermediates.pem", "/federation", "/provisioners"}) {
    INFO(path);
    auto plain = ca.http.get(path);
    auto versioned = ca.http.get("/1.0" + path);
    CHECK(plain.status < 300);
    CHECK(versioned.status == plain.status);
    CHECK(versioned.body == plain.body);
  }
}

TEST_CASE("the server echoes X-Request-Id, and makes one up when the request has none", "[api]") {
  RunningCa ca({.password = false});
  auto echoed = ca.http.get("/health", {{"X-Request-Id", "integration-test-42"}});
  CHECK(echoed.header("X-Request-Id") == "integration-test-42");
  auto made = ca.http.get("/health");
  CHECK(made.header("X-Request-Id").size() == 36);  // a UUID
  CHECK(made.header("X-Request-Id") != ca.http.get("/health").header("X-Request-Id"));
}

TEST_CASE("the server presents its leaf and the intermediate, not the root, for its dnsNames", "[api]") {
  RunningCa ca({.password = false});
  auto r = ca.http.get("/health");
  REQUIRE(r.peer_chain_der.size() == 2);
  auto curl = run({"curl", "-sS", "--fail", "--cacert", ca.pki.root_cert().string(),
                   "https://localhost:" + std::to_string(ca.server.port()) + "/roots.pem"});
  INFO(curl.describe());
  CHECK(curl.exit_code == 0);
  CHECK(curl.out == read_text(ca.pki.root_cert()));
}

TEST_CASE("the server renews its own TLS certificate from the intermediate before it expires", "[api]") {
  RunningCa ca({.password = false}, [](const Pki& pki) {
    std::ofstream(pki.config(), std::ios::app) << "tlsCertDuration: 6s\n";
  });
  auto serial_of = [&] {
    auto r = ca.http.get("/health");
    REQUIRE(r.peer_chain_der.size() == 2);
    const auto& der = r.peer_chain_der[0];
    auto leaf = crypto::Certificate::from_der(reinterpret_cast<const unsigned char*>(der.data()), der.size());
    REQUIRE(leaf);
    return std::pair{leaf->serial_hex(), leaf->not_after() - leaf->not_before()};
  };
  auto [first, lifetime] = serial_of();
  CHECK(lifetime == std::chrono::seconds(6 + 60));  // lifetime plus the 1m backdate
  // Renewal is due 4 s after start; allow 15 s.
  for (int i = 0; i < 150 && ca.server.count("server certificate renewed") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ca.server.count("server certificate renewed") >= 1);
  auto [second, unused] = serial_of();
  CHECK(second != first);
}

// Provisioner is one JWK provisioner of ThreeProvisioners.
struct Provisioner {
  std::string name, kid, encrypted_key;
};

// ThreeProvisioners is a CA whose config lists admin (from init), then ci
// and ops (made with `keystep crypto jwk create`), all with encrypted keys.
struct ThreeProvisioners {
  ThreeProvisioners()
      : pki(init_pki(tmp, "ca")), provisioners(add_provisioners()), server(serve_options(pki)), http(server, pki) {}

  std::vector<Provisioner> add_provisioners() {
    YAML::Node config = YAML::LoadFile(pki.config().string());
    std::vector<Provisioner> out{{"admin", config["provisioners"][0]["key"]["kid"].as<std::string>(),
                                  config["provisioners"][0]["encryptedKey"].as<std::string>()}};
    for (const std::string name : {"ci", "ops"}) {
      const fs::path pub = tmp / (name + ".pub.json"), priv = tmp / (name + ".jwe");
      require_ok(keystep({"crypto", "jwk", "create", pub.string(), priv.string(), "--password-file",
                          pki.password_file.string()}),
                 "keystep crypto jwk create");
      auto key = nlohmann::json::parse(read_text(pub));
      const std::string jwe = without_trailing_newlines(read_text(priv));
      append_provisioner(pki.config(), name, key, jwe);
      out.push_back({name, key["kid"].get<std::string>(), jwe});
    }
    return out;
  }

  TempDir tmp;
  Pki pki;
  std::vector<Provisioner> provisioners;
  ServerProcess server;
  CaHttp http;
};

std::vector<std::string> names_of(const nlohmann::json& page) {
  std::vector<std::string> names;
  for (const auto& p : page["provisioners"]) names.push_back(p["name"].get<std::string>());
  return names;
}

TEST_CASE("GET /provisioners lists every provisioner in config order with its public key and encryptedKey", "[api]") {
  ThreeProvisioners ca;
  auto r = ca.http.get("/provisioners");
  CHECK(r.status == 200);
  auto page = json_body(r);
  CHECK(names_of(page) == std::vector<std::string>{"admin", "ci", "ops"});
  CHECK(page["nextCursor"] == "");
  for (std::size_t i = 0; i < ca.provisioners.size() && i < page["provisioners"].size(); ++i) {
    const auto& item = page["provisioners"][i];
    INFO(ca.provisioners[i].name);
    CHECK(item["type"] == "JWK");
    CHECK(item["key"]["kid"] == ca.provisioners[i].kid);
    CHECK_FALSE(item["key"].contains("d"));
    CHECK(item["encryptedKey"] == ca.provisioners[i].encrypted_key);
  }
}

TEST_CASE("GET /provisioners pages by limit and follows nextCursor to the end", "[api]") {
  ThreeProvisioners ca;
  auto first = json_body(ca.http.get("/provisioners?limit=2"));
  CHECK(names_of(first) == std::vector<std::string>{"admin", "ci"});
  const std::string cursor = first["nextCursor"].get<std::string>();
  REQUIRE_FALSE(cursor.empty());
  auto second = json_body(ca.http.get("/provisioners?limit=2&cursor=" + cursor));
  CHECK(names_of(second) == std::vector<std::string>{"ops"});
  CHECK(second["nextCursor"] == "");

  SECTION("limit 1 walks one provisioner at a time") {
    std::vector<std::string> seen;
    std::string next;
    for (int page = 0; page < 5; ++page) {
      auto body = json_body(ca.http.get("/1.0/provisioners?limit=1" + (next.empty() ? "" : "&cursor=" + next)));
      for (auto& n : names_of(body)) seen.push_back(n);
      next = body["nextCursor"].get<std::string>();
      if (next.empty()) break;
    }
    CHECK(seen == std::vector<std::string>{"admin", "ci", "ops"});
  }
}

TEST_CASE("GET /provisioners?limit=abc answers 400 with step's message", "[api]") {
  RunningCa ca({.password = false});
  auto r = ca.http.get("/provisioners?limit=abc");
  CHECK(r.status == 400);
  CHECK(r.body ==
        "{\"status\":400,\"message\":\"The request could not be completed: limit 'abc' is not an integer.\"}\n");
}

TEST_CASE("GET /provisioners/{kid}/encrypted-key answers each provisioner's encryptedKey, 404 for others", "[api]") {
  ThreeProvisioners ca;
  for (const auto& p : ca.provisioners) {
    INFO(p.name);
    auto r = ca.http.get("/provisioners/" + p.kid + "/encrypted-key");
    CHECK(r.status == 200);
    CHECK(json_body(r) == nlohmann::json{{"key", p.encrypted_key}});
    CHECK(ca.http.get("/1.0/provisioners/" + p.kid + "/encrypted-key").body == r.body);
  }
  auto unknown = ca.http.get("/provisioners/no-such-kid/encrypted-key");
  CHECK(unknown.status == 404);
  CHECK(json_body(unknown)["status"] == 404);
}

}  // namespace
}  // namespace keystep::integration
