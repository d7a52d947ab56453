#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>

#include <catch2/catch.hpp>

#include "issuer/authority/authority.h"
#include "issuer/crypto/key.h"
#include "issuer/storage/open_store.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace std::chrono_literals;

namespace {

// FlakyStore forwards to a real Store; it can be down (every call
// unavailable) and can run a hook before a lookup by request id.
class FlakyStore : public storage::Store {
 public:
  explicit FlakyStore(storage::Store& inner) : inner_(inner) {}
  bool down = false;
  std::function<void()> before_find_by_request;  // runs once

  Status insert_certificate(const storage::CertificateRecord& r) override {
    if (down) return unavailable();
    return inner_.insert_certificate(r);
  }
  Result<std::optional<storage::CertificateRecord>> find_certificate(std::string_view serial) override {
    if (down) return unavailable();
    return inner_.find_certificate(serial);
  }
  Result<std::optional<storage::CertificateRecord>> find_certificate_by_request(std::string_view id) override {
    if (down) return unavailable();
    if (before_find_by_request) {
      auto hook = std::move(before_find_by_request);
      before_find_by_request = nullptr;
      hook();
      return std::optional<storage::CertificateRecord>();  // read before the other replica wrote
    }
    return inner_.find_certificate_by_request(id);
  }
  Status use_token(std::string_view p, std::string_view id, common::TimePoint until) override {
    return inner_.use_token(p, id, until);
  }
  Result<std::size_t> collect_used_tokens(common::TimePoint now) override { return inner_.collect_used_tokens(now); }
  Status add_nonce(std::string_view n, common::TimePoint until) override { return inner_.add_nonce(n, until); }
  Result<bool> consume_nonce(std::string_view n, common::TimePoint now) override { return inner_.consume_nonce(n, now); }
  Status insert_acme_objects(const std::vector<storage::AcmeObject>& objects) override {
    return inner_.insert_acme_objects(objects);
  }
  Result<std::optional<storage::AcmeObject>> find_acme_object(storage::AcmeKind kind, std::string_view id) override {
    return inner_.find_acme_object(kind, id);
  }
  Result<std::optional<storage::AcmeObject>> find_acme_object_by_lookup(storage::AcmeKind kind,
                                                                        std::string_view lookup) override {
    return inner_.find_acme_object_by_lookup(kind, lookup);
  }
  Result<std::vector<storage::AcmeObject>> list_acme_objects(storage::AcmeKind kind, std::string_view key,
                                                             bool by_parent = false) override {
    return inner_.list_acme_objects(kind, key, by_parent);
  }
  Result<std::int64_t> update_acme_object(const storage::AcmeObject& object) override {
    return inner_.update_acme_object(object);
  }
  Result<std::size_t> collect_acme_objects(common::TimePoint before) override {
    return inner_.collect_acme_objects(before);
  }
  Status revoke(const storage::RevocationRecord& r) override { return inner_.revoke(r); }
  Result<std::optional<storage::RevocationRecord>> find_revocation(std::string_view s) override {
    return inner_.find_revocation(s);
  }
  Result<std::vector<storage::RevocationRecord>> list_revocations(common::TimePoint t) override {
    return inner_.list_revocations(t);
  }
  Result<std::int64_t> revocation_count() override { return inner_.revocation_count(); }
  Status publish_crl(const storage::CrlRecord& crl) override { return inner_.publish_crl(crl); }
  Result<std::optional<storage::CrlRecord>> latest_crl() override { return inner_.latest_crl(); }
  Result<std::int64_t> next_crl_number() override { return inner_.next_crl_number(); }
  Status ping() override { return down ? unavailable() : inner_.ping(); }
  std::string describe() const override { return "flaky " + inner_.describe(); }

 private:
  static tl::unexpected<Error> unavailable() { return fail(Errc::unavailable, "connection refused"); }
  storage::Store& inner_;
};

struct Fixture {
  testing::TestPki pki = testing::make_pki();
  common::FakeClock clock{std::chrono::system_clock::now()};
  std::filesystem::path db = std::filesystem::temp_directory_path() /
                             ("keystep-cr-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()) + ".db");
  std::shared_ptr<const signing::CertificateAuthority> ca;
  std::unique_ptr<storage::Store> sqlite;
  std::unique_ptr<FlakyStore> store;
  authority::AuthorityOptions options;
  std::unique_ptr<authority::Authority> authority;

  static int counter() {
    static std::atomic<int> n{0};
    return n++;
  }

  explicit Fixture(const std::function<void(authority::AuthorityOptions&)>& configure = {}) {
    auto loaded = signing::CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, pki.root_pem},
                                                      clock.now());
    REQUIRE(loaded);
    ca = *loaded;
    storage::StorageConfig storage_config;
    storage_config.sqlite_path = db;
    auto opened = storage::open_store(storage_config, clock);
    REQUIRE(opened);
    sqlite = std::move(*opened);
    store = std::make_unique<FlakyStore>(*sqlite);
    options.dns_names = {"ca.internal"};
    options.claims.max_duration = 48h;
    options.policy.allow.dns = {"*.internal"};
    options.policy.allow.ip = {"10.0.0.0/8"};
    if (configure) configure(options);
    authority = make_authority();
  }
  ~Fixture() {
    authority.reset();
    store.reset();
    sqlite.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
  }

  // make_authority makes another replica on the same database.
  std::unique_ptr<authority::Authority> make_authority() {
    auto a = authority::Authority::create(options, ca, clock, *store);
    REQUIRE(a);
    return std::move(*a);
  }

  static authority::CsrSignRequest request(EVP_PKEY* key, const testing::CsrSpec& spec, std::string uid = "uid-1") {
    return {.csr_pem = testing::make_csr_pem(key, spec),
            .requester = "system:serviceaccount:cert-manager:cert-manager",
            .request_id = std::move(uid),
            .provisioner = "StepClusterIssuer/internal"};
  }
};

std::vector<int> eku_nids(X509* x) {
  std::vector<int> out;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) out.push_back(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)));
  EXTENDED_KEY_USAGE_free(eku);
  return out;
}

void require_error(const Result<signing::IssuedCertificate>& r, Errc code, const std::string& fragment) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == code);
  CHECK_THAT(r.error().message, Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("sign_certificate_request issues the CSR's names for its key and records the UID", "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto r = f.authority->sign_certificate_request(
      Fixture::request(key.get(), {.cn = "web.internal", .dns = {"web.internal", "api.internal"}, .ips = {"10.0.0.1"}}));
  REQUIRE(r);
  CHECK(r->leaf.common_name() == "web.internal");
  CHECK(r->leaf.subject_alt_names().dns == std::vector<std::string>{"web.internal", "api.internal"});
  CHECK(r->leaf.subject_alt_names().ips == std::vector<std::string>{"10.0.0.1"});
  CHECK(crypto::same_public_key(r->leaf.public_key(), key.get()));
  CHECK_FALSE(r->leaf.is_ca());
  REQUIRE(r->chain.size() == 2);
  CHECK(r->chain[1].sha256_hex() == f.ca->intermediate().sha256_hex());
  // cert-manager's default usages: digital signature + key encipherment.
  CHECK(X509_get_key_usage(r->leaf.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(eku_nids(r->leaf.get()).empty());

  auto rec = f.sqlite->find_certificate_by_request("uid-1");
  REQUIRE(rec);
  REQUIRE(rec->has_value());
  CHECK((*rec)->serial == r->leaf.serial_decimal());
  CHECK((*rec)->source == "certificaterequest");
  CHECK((*rec)->provisioner == "StepClusterIssuer/internal");
  CHECK((*rec)->requester == "system:serviceaccount:cert-manager:cert-manager");
  CHECK((*rec)->sans == std::vector<std::string>{"dns:web.internal", "dns:api.internal", "ip:10.0.0.1"});
}

TEST_CASE("sign_certificate_request refuses a name outside the policy and records nothing", "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto r = f.authority->sign_certificate_request(
      Fixture::request(key.get(), {.cn = "web.internal", .dns = {"web.internal", "evil.example.com"}}));
  require_error(r, Errc::permission_denied, "evil.example.com");
  auto rec = f.sqlite->find_certificate_by_request("uid-1");
  REQUIRE(rec);
  CHECK_FALSE(rec->has_value());

  auto cn = f.authority->sign_certificate_request(Fixture::request(key.get(), {.cn = "evil.example.com"}, "uid-2"));
  require_error(cn, Errc::permission_denied, "common name");
}

TEST_CASE("sign_certificate_request refuses a CA unless policy.allowCA", "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto req = Fixture::request(key.get(), {.cn = "sub.internal"});
  req.is_ca = true;
  require_error(f.authority->sign_certificate_request(req), Errc::permission_denied, "allowCA");
  // A CSR asking for CA:TRUE is a CA request even when isCA is false.
  require_error(f.authority->sign_certificate_request(
                    Fixture::request(key.get(), {.cn = "sub.internal", .is_ca = true}, "uid-2")),
                Errc::permission_denied, "allowCA");

  Fixture allowed([](authority::AuthorityOptions& o) { o.allow_ca = true; });
  req.usages = {"cert sign", "crl sign"};
  auto r = allowed.authority->sign_certificate_request(req);
  REQUIRE(r);
  CHECK(r->leaf.is_ca());
  CHECK(X509_get_key_usage(r->leaf.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
}

TEST_CASE("sign_certificate_request honours the requested usages", "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto req = Fixture::request(key.get(), {.cn = "client.internal"});
  req.usages = {"digital signature", "content commitment", "client auth", "server auth"};
  auto r = f.authority->sign_certificate_request(req);
  REQUIRE(r);
  CHECK(X509_get_key_usage(r->leaf.get()) == (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION));
  CHECK(eku_nids(r->leaf.get()) == std::vector<int>{NID_client_auth, NID_server_auth});

  req.request_id = "uid-2";
  req.usages = {"server auth", "mind control"};
  require_error(f.authority->sign_certificate_request(req), Errc::invalid_argument, "\"mind control\"");
  req.usages = {"digital signature", "cert sign"};
  require_error(f.authority->sign_certificate_request(req), Errc::invalid_argument, "requires isCA");
}

TEST_CASE("sign_certificate_request issues one certificate per CertificateRequest UID", "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto req = Fixture::request(key.get(), {.cn = "web.internal"});
  auto first = f.authority->sign_certificate_request(req);
  REQUIRE(first);
  f.clock.advance(10s);
  auto second = f.authority->sign_certificate_request(req);
  REQUIRE(second);
  CHECK(second->leaf.serial_decimal() == first->leaf.serial_decimal());
  CHECK(second->leaf.pem() == first->leaf.pem());
  REQUIRE(second->chain.size() == 2);
  CHECK(second->chain[1].sha256_hex() == f.ca->intermediate().sha256_hex());

  auto other_key = testing::make_key();
  require_error(f.authority->sign_certificate_request(Fixture::request(other_key.get(), {.cn = "web.internal"})),
                Errc::failed_precondition, "another public key");
}

TEST_CASE("sign_certificate_request returns the certificate of the replica that recorded the UID first",
          "[authority]") {
  Fixture f;
  auto other_replica = f.make_authority();
  auto key = testing::make_key();
  auto req = Fixture::request(key.get(), {.cn = "web.internal"});
  std::string winner;
  f.store->before_find_by_request = [&] {
    auto r = other_replica->sign_certificate_request(req);
    REQUIRE(r);
    winner = r->leaf.serial_decimal();
  };
  auto r = f.authority->sign_certificate_request(req);
  REQUIRE(r);
  CHECK_FALSE(winner.empty());
  CHECK(r->leaf.serial_decimal() == winner);
}

TEST_CASE("sign_certificate_request clamps the requested duration into the claims", "[authority]") {
  Fixture f;  // claims: min 5m, default 24h, max 48h; backdate 60s
  auto key = testing::make_key();
  auto lifetime = [&](std::optional<std::chrono::seconds> d, const std::string& uid) {
    auto req = Fixture::request(key.get(), {.cn = "web.internal"}, uid);
    req.duration = d;
    auto r = f.authority->sign_certificate_request(req);
    REQUIRE(r);
    return r->leaf.not_after() - r->leaf.not_before();
  };
  CHECK(lifetime(std::nullopt, "a") == 24h + 1min);
  CHECK(lifetime(std::chrono::hours(1000), "b") == 48h + 1min);
  CHECK(lifetime(std::chrono::seconds(60), "c") == 5min + 1min);
  CHECK(lifetime(std::chrono::hours(2), "d") == 2h + 1min);
  auto req = Fixture::request(key.get(), {.cn = "web.internal"}, "e");
  req.duration = std::chrono::seconds(0);
  require_error(f.authority->sign_certificate_request(req), Errc::invalid_argument, "duration");
}

TEST_CASE("sign_certificate_request reports bad input as invalid_argument and a lost database as unavailable",
          "[authority]") {
  Fixture f;
  auto key = testing::make_key();
  auto req = Fixture::request(key.get(), {.cn = "web.internal"});
  req.request_id = "";
  require_error(f.authority->sign_certificate_request(req), Errc::invalid_argument, "request id");
  req.request_id = "uid-1";
  req.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  require_error(f.authority->sign_certificate_request(req), Errc::invalid_argument, "invalid csr");
  require_error(f.authority->sign_certificate_request(Fixture::request(key.get(), {})), Errc::invalid_argument,
                "neither a common name nor SANs");

  f.store->down = true;
  require_error(f.authority->sign_certificate_request(Fixture::request(key.get(), {.cn = "web.internal"})),
                Errc::unavailable, "unavailable");
  f.store->down = false;
  auto rec = f.sqlite->find_certificate_by_request("uid-1");
  REQUIRE(rec);
  CHECK_FALSE(rec->has_value());
}
