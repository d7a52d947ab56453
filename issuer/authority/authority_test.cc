#include "issuer/authority/authority.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <atomic>

#include <catch2/catch.hpp>

#include <filesystem>

#include "issuer/common/base64.h"
#include "issuer/storage/open_store.h"
#include "issuer/crypto/jose/jws.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Fixture {
  testing::TestPki pki = testing::make_pki();
  jose::Jwk jwk = *jose::Jwk::generate("EC", 0, "P-256");
  common::FakeClock clock{std::chrono::system_clock::now()};
  std::filesystem::path db = std::filesystem::temp_directory_path() /
                             ("keystep-authority-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()) + ".db");
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<authority::Authority> authority;

  static int counter() {
    static std::atomic<int> n{0};
    return n++;
  }
  ~Fixture() {
    authority.reset();
    store.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
  }

  explicit Fixture(policy::NamePolicyConfig policy = {}) {
    auto ca = signing::CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, pki.root_pem},
                                                  clock.now());
    REQUIRE(ca);
    storage::StorageConfig storage_config;
    storage_config.sqlite_path = db;
    auto opened = storage::open_store(storage_config, clock);
    REQUIRE(opened);
    store = std::move(*opened);
    authority::AuthorityOptions options;
    options.dns_names = {"ca.internal", "127.0.0.1"};
    options.policy = policy;
    options.claims.max_duration = 48h;
    options.provisioners.push_back({"admin", jwk.public_json(), "", std::nullopt});
    auto a = authority::Authority::create(options, *ca, clock, *store);
    REQUIRE(a);
    authority = std::move(*a);
    clock.advance(2s);  // tokens issued "now" are after the CA started
  }

  json claims(const std::string& sub, std::vector<std::string> sans = {}) const {
    unsigned char jti[32];
    RAND_bytes(jti, sizeof jti);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    json c = {{"aud", "https://ca.internal:9000/1.0/sign"}, {"iss", "admin"}, {"sub", sub},
              {"iat", now}, {"nbf", now}, {"exp", now + 300}, {"jti", common::hex_encode(jti, sizeof jti)}};
    c["sans"] = sans.empty() ? json::array({sub}) : json(sans);
    return c;
  }

  std::string token(const json& c, const jose::Jwk* key = nullptr) const {
    const jose::Jwk& k = key ? *key : jwk;
    return *jose::sign_compact({{"alg", k.alg()}, {"kid", jwk.kid()}, {"typ", "JWT"}}, c.dump(), k);
  }

  Result<signing::IssuedCertificate> sign(const std::string& ott, const testing::CsrSpec& csr,
                                          std::string not_after = "") {
    auto key = testing::make_key();
    return authority->sign({testing::make_csr_pem(key.get(), csr), ott, "", not_after});
  }
};

void require_error(const Result<signing::IssuedCertificate>& r, Errc code, const std::string& fragment) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == code);
  CHECK_THAT(r.error().message, Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("Authority issues the token's names for a matching CSR", "[authority]") {
  Fixture f;
  auto r = f.sign(f.token(f.claims("web.internal", {"web.internal", "10.0.0.1"})),
                  {.cn = "web.internal", .dns = {"web.internal"}, .ips = {"10.0.0.1"}});
  REQUIRE(r);
  CHECK(r->leaf.common_name() == "web.internal");
  CHECK(r->leaf.subject_alt_names().dns == std::vector<std::string>{"web.internal"});
  CHECK(r->leaf.subject_alt_names().ips == std::vector<std::string>{"10.0.0.1"});
  CHECK(r->leaf.not_after() - r->leaf.not_before() == 24h + 1min);
}

TEST_CASE("Authority takes SANs from the token even when the CSR has none", "[authority]") {
  Fixture f;
  auto r = f.sign(f.token(f.claims("web.internal")), {.cn = "web.internal"});
  REQUIRE(r);
  CHECK(r->leaf.subject_alt_names().dns == std::vector<std::string>{"web.internal"});
}

TEST_CASE("Authority records every issued certificate in the ledger before returning it", "[authority]") {
  Fixture f;
  auto r = f.sign(f.token(f.claims("web.internal", {"web.internal", "10.0.0.1"})), {.cn = "web.internal"});
  REQUIRE(r);
  auto rec = f.store->find_certificate(r->leaf.serial_decimal());
  REQUIRE(rec);
  REQUIRE(rec->has_value());
  const auto& c = **rec;
  CHECK(c.subject == "web.internal");
  CHECK(c.sans == std::vector<std::string>{"dns:web.internal", "ip:10.0.0.1"});
  CHECK(c.provisioner == "admin");
  CHECK(c.requester == "web.internal");
  CHECK(c.source == "api");
  CHECK(c.key_type == "EC P-256");
  CHECK(c.fingerprint == r->leaf.sha256_hex());
  CHECK(c.issuer_fingerprint == r->chain[1].sha256_hex());
  CHECK(c.pem == r->leaf.pem());
}

TEST_CASE("Authority accepts a token once", "[authority]") {
  Fixture f;
  auto ott = f.token(f.claims("a.internal"));
  REQUIRE(f.sign(ott, {.cn = "a.internal"}));
  require_error(f.sign(ott, {.cn = "a.internal"}), Errc::unauthenticated, "token already used");
}

TEST_CASE("Authority rejects tokens with bad time claims", "[authority]") {
  Fixture f;
  auto expired = f.claims("a.internal");
  expired["exp"] = expired["iat"].get<long>() - 61;
  require_error(f.sign(f.token(expired), {.cn = "a.internal"}), Errc::unauthenticated, "token is expired (exp)");
  auto future = f.claims("a.internal");
  future["nbf"] = future["iat"].get<long>() + 120;
  require_error(f.sign(f.token(future), {.cn = "a.internal"}), Errc::unauthenticated, "token not valid yet (nbf)");
  auto no_exp = f.claims("a.internal");
  no_exp.erase("exp");
  require_error(f.sign(f.token(no_exp), {.cn = "a.internal"}), Errc::unauthenticated, "no expiry");
  auto before_start = f.claims("a.internal");
  before_start["iat"] = before_start["iat"].get<long>() - 3600;
  require_error(f.sign(f.token(before_start), {.cn = "a.internal"}), Errc::unauthenticated, "before the bootstrap");
}

TEST_CASE("Authority rejects a token for another audience, issuer or key", "[authority]") {
  Fixture f;
  auto aud = f.claims("a.internal");
  aud["aud"] = "https://other.example/1.0/sign";
  require_error(f.sign(f.token(aud), {.cn = "a.internal"}), Errc::unauthenticated, "provisioner not found");
  auto revoke_aud = f.claims("a.internal");
  revoke_aud["aud"] = "https://ca.internal/1.0/revoke";
  require_error(f.sign(f.token(revoke_aud), {.cn = "a.internal"}), Errc::unauthenticated, "audience");
  auto iss = f.claims("a.internal");
  iss["iss"] = "someone-else";
  require_error(f.sign(f.token(iss), {.cn = "a.internal"}), Errc::unauthenticated, "provisioner not found");
  auto other = *jose::Jwk::generate("EC", 0, "P-256");
  require_error(f.sign(f.token(f.claims("a.internal"), &other), {.cn = "a.internal"}), Errc::unauthenticated,
                "signature");
  require_error(f.sign("not.a.token", {.cn = "a.internal"}), Errc::unauthenticated, "");
}

TEST_CASE("Authority does not burn a jti for a token whose signature fails", "[authority]") {
  Fixture f;
  auto c = f.claims("a.internal");
  auto other = *jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE_FALSE(f.sign(f.token(c, &other), {.cn = "a.internal"}));
  CHECK(f.sign(f.token(c), {.cn = "a.internal"}));
}

TEST_CASE("Authority refuses CSR names the token does not grant", "[authority]") {
  Fixture f;
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "evil.internal"}), Errc::permission_denied,
                "common name");
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal", .dns = {"a.internal", "b.internal"}}),
                Errc::permission_denied, "DNS names");
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal", .ips = {"10.0.0.1"}}),
                Errc::permission_denied, "IP addresses");
}

TEST_CASE("Authority applies the key policy, claims and name policy", "[authority]") {
  policy::NamePolicyConfig p;
  p.allow.dns = {"*.internal"};
  Fixture f(p);
  auto weak = testing::make_key("RSA", "", 1024);
  auto r = f.authority->sign({testing::make_csr_pem(weak.get(), {.cn = "a.internal"}), f.token(f.claims("a.internal")),
                              "", ""});
  require_error(r, Errc::permission_denied, "too weak");
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal"}, "49h"), Errc::permission_denied,
                "more than the authorized maximum");
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal"}, "1m"), Errc::permission_denied,
                "less than the authorized minimum");
  require_error(f.sign(f.token(f.claims("a.example.com")), {.cn = "a.example.com"}), Errc::permission_denied,
                "not allowed");
  require_error(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal", .is_ca = true}), Errc::permission_denied,
                "CA certificate");
  CHECK(f.sign(f.token(f.claims("a.internal")), {.cn = "a.internal"}, "48h"));
}

TEST_CASE("Authority reports malformed requests as invalid arguments", "[authority]") {
  Fixture f;
  auto r = f.authority->sign({"", f.token(f.claims("a.internal")), "", ""});
  require_error(r, Errc::invalid_argument, "missing csr");
  auto key = testing::make_key();
  r = f.authority->sign({testing::make_csr_pem(key.get(), {.cn = "a"}), "", "", ""});
  require_error(r, Errc::invalid_argument, "missing ott");
  r = f.authority->sign({"garbage", f.token(f.claims("a.internal")), "", ""});
  require_error(r, Errc::invalid_argument, "invalid csr");
  r = f.authority->sign({testing::make_csr_pem(key.get(), {.cn = "a"}), f.token(f.claims("a")), "", "soon"});
  require_error(r, Errc::invalid_argument, "notAfter");
}
