#include "issuer/authority/directory.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/storage/open_store.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// World is a Store and Authorities over distinct PKIs, each with one JWK
// provisioner, plus a Directory whose primary is the first.
struct World {
  common::FakeClock clock{std::chrono::system_clock::now()};
  std::filesystem::path db = std::filesystem::temp_directory_path() /
                             ("keystep-directory-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()) + ".db");
  std::unique_ptr<storage::Store> store;
  std::vector<jose::Jwk> keys;
  std::vector<std::shared_ptr<const authority::Authority>> authorities;

  static int counter() {
    static std::atomic<int> n{0};
    return n++;
  }

  World() {
    storage::StorageConfig storage_config;
    storage_config.sqlite_path = db;
    auto opened = storage::open_store(storage_config, clock);
    REQUIRE(opened);
    store = std::move(*opened);
  }
  ~World() {
    authorities.clear();
    store.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
  }

  std::shared_ptr<const authority::Authority> add(const std::string& provisioner,
                                                  std::vector<provisioners::K8sSaProvisionerConfig> k8ssa = {}) {
    auto pki = testing::make_pki();
    auto ca = signing::CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, pki.root_pem},
                                                  clock.now());
    REQUIRE(ca);
    keys.push_back(*jose::Jwk::generate("EC", 0, "P-256"));
    authority::AuthorityOptions options;
    options.dns_names = {"ca.internal"};
    options.provisioners.push_back({provisioner, keys.back().public_json(), "", std::nullopt});
    options.k8ssa = std::move(k8ssa);
    auto a = authority::Authority::create(options, *ca, clock, *store);
    REQUIRE(a);
    authorities.push_back(std::move(*a));
    return authorities.back();
  }

  std::string token(std::size_t key, const std::string& iss, const std::string& sub) const {
    unsigned char jti[16];
    RAND_bytes(jti, sizeof jti);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count() + 2;
    json c = {{"aud", "https://ca.internal/1.0/sign"}, {"iss", iss}, {"sub", sub}, {"sans", {sub}},
              {"iat", now}, {"nbf", now}, {"exp", now + 300}, {"jti", common::hex_encode(jti, sizeof jti)}};
    const auto& k = keys[key];
    return *jose::sign_compact({{"alg", k.alg()}, {"kid", k.kid()}, {"typ", "JWT"}}, c.dump(), k);
  }
};

// service_account_token is an unsigned-looking projected token for routing.
std::string service_account_token(const std::string& aud) {
  json payload = {{"aud", {aud}},
                  {"iss", "https://kubernetes.default.svc"},
                  {"sub", "system:serviceaccount:ns:sa"},
                  {"kubernetes.io", {{"namespace", "ns"}, {"serviceaccount", {{"name", "sa"}, {"uid", "u"}}}}}};
  auto key = *jose::Jwk::generate("EC", 0, "P-256");
  return *jose::sign_compact({{"alg", key.alg()}, {"kid", "k"}}, payload.dump(), key);
}

}  // namespace

TEST_CASE("directory: tokens go to the Authority of the provisioner they name, the rest to the primary") {
  World w;
  auto primary = w.add("admin");
  auto team = w.add("team", {{.name = "pods", .audiences = {"keystep-pods"}}});
  authority::Directory directory(*primary);
  int changes = 0;
  directory.on_change([&] { ++changes; });

  // Before anything is published every request is the primary's.
  CHECK(&*directory.for_token(w.token(1, "team", "a.internal")) == primary.get());
  directory.publish({{"StepClusterIssuer/team", team}});
  CHECK(changes == 1);
  CHECK(&*directory.for_token(w.token(1, "team", "a.internal")) == team.get());
  CHECK(&*directory.for_token(w.token(0, "admin", "a.internal")) == primary.get());
  // The name alone is not enough: the kid must be the provisioner's.
  CHECK(&*directory.for_token(w.token(0, "team", "a.internal")) == primary.get());
  CHECK(&*directory.for_token("not a token") == primary.get());
  CHECK(&*directory.for_token(service_account_token("keystep-pods")) == team.get());
  CHECK(&*directory.for_token(service_account_token("other")) == primary.get());
  CHECK(&*directory.for_provisioner("pods") == team.get());
  CHECK(&*directory.for_provisioner("admin") == primary.get());
  CHECK(&*directory.for_provisioner("nobody") == primary.get());

  // The routed Authority signs with its own intermediate.
  auto key = testing::make_key();
  auto issued = directory.for_token(w.token(1, "team", "a.internal"))
                    ->sign({testing::make_csr_pem(key.get(), {.cn = "a.internal", .dns = {"a.internal"}}),
                            w.token(1, "team", "a.internal"), "", ""});
  REQUIRE(issued);
  CHECK(issued->chain[1].sha256_hex() == team->ca()->intermediate().sha256_hex());
  std::string der(issued->leaf.der().begin(), issued->leaf.der().end());
  CHECK(&*directory.for_certificate_der(der) == team.get());

  // Provisioners and roots of all; each root once.
  auto listed = directory.provisioners();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0]["name"] == "admin");
  CHECK(listed[1]["name"] == "team");
  CHECK(listed[2]["name"] == "pods");
  CHECK(directory.roots().size() == 2);
  directory.publish({{"a", team}, {"b", team}});
  CHECK(directory.roots().size() == 2);
  CHECK(directory.intermediates().size() == 2);

  // A member removed while a request holds it stays alive for that request.
  auto held = directory.for_provisioner("team");
  std::weak_ptr<const authority::Authority> weak = team;
  directory.publish({});
  w.authorities.pop_back();
  team.reset();
  CHECK_FALSE(weak.expired());
  CHECK(held->has_provisioner("team"));
  CHECK(&*directory.for_provisioner("team") == primary.get());
  CHECK(directory.roots().size() == 1);
}
