// The behaviour of every Store, run against SQLite and a real PostgreSQL 15.

#include <catch2/catch.hpp>

#include "issuer/storage/migrations.h"
#include "issuer/storage/record_codec.h"
#include "issuer/storage/testing_backends.h"

namespace keystep::storage {
namespace {

using testing::fresh_database;
using testing::kT0;
using testing::open_or_throw;
using namespace std::chrono_literals;

CertificateRecord make_certificate(const std::string& serial, const std::string& source = "api",
                                   const std::string& request_id = "req-1") {
  CertificateRecord r;
  r.serial = serial;
  r.subject = "svc.internal";
  r.sans = {"dns:svc.internal", "ip:10.0.0.1", "email:ops@example.com", "uri:spiffe://x/y"};
  r.not_before = kT0 - 60s;
  r.not_after = kT0 + 24h;
  r.key_type = "EC P-256";
  r.issuer_fingerprint = std::string(64, 'a');
  r.provisioner = "admin";
  r.requester = "alice@example.com";
  r.source = source;
  r.request_id = request_id;
  r.fingerprint = std::string(64, 'b');
  r.pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  r.created_at = kT0;
  return r;
}

RevocationRecord make_revocation(const std::string& serial, common::TimePoint revoked_at,
                                 std::optional<common::TimePoint> expires_at) {
  return RevocationRecord{serial, 1, "key compromise", revoked_at, "admin/alice", expires_at};
}

#define BACKEND GENERATE(as<std::string>{}, "sqlite", "postgres")

TEST_CASE("a recorded certificate reads back with every field", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  auto record = make_certificate("123456789012345678901234567890", "certificaterequest", "0b5c-uid");
  record.sans.push_back("dns:quote'\"\\.internal");
  REQUIRE_OK(store->insert_certificate(record));

  auto found = store->find_certificate(record.serial);
  REQUIRE_OK(found);
  REQUIRE(found->has_value());
  const CertificateRecord& r = **found;
  CHECK(r.serial == record.serial);
  CHECK(r.subject == record.subject);
  CHECK(r.sans == record.sans);
  CHECK(r.not_before == record.not_before);
  CHECK(r.not_after == record.not_after);
  CHECK(r.key_type == record.key_type);
  CHECK(r.issuer_fingerprint == record.issuer_fingerprint);
  CHECK(r.provisioner == record.provisioner);
  CHECK(r.requester == record.requester);
  CHECK(r.source == record.source);
  CHECK(r.request_id == record.request_id);
  CHECK(r.fingerprint == record.fingerprint);
  CHECK(r.pem == record.pem);
  CHECK(r.created_at == record.created_at);

  auto missing = store->find_certificate("42");
  REQUIRE_OK(missing);
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("recording a certificate under a taken serial fails with already_exists", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_certificate(make_certificate("1001", "api", "req-a")));
  auto second = make_certificate("1001", "acme", "req-b");
  second.subject = "other";
  auto dup = store->insert_certificate(second);
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == Errc::already_exists);

  auto found = store->find_certificate("1001");
  REQUIRE_OK(found);
  REQUIRE(found->has_value());
  CHECK((*found)->subject == "svc.internal");
}

TEST_CASE("a CertificateRequest UID gets one certificate while other sources may share a request id", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_certificate(make_certificate("1", "certificaterequest", "uid-1")));
  auto again = store->insert_certificate(make_certificate("2", "certificaterequest", "uid-1"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::already_exists);
  CHECK(store->find_certificate("2").value() == std::nullopt);

  // The same id from other sources (X-Request-Id) is not a CertificateRequest.
  REQUIRE_OK(store->insert_certificate(make_certificate("3", "api", "uid-1")));
  REQUIRE_OK(store->insert_certificate(make_certificate("4", "api", "uid-1")));
  REQUIRE_OK(store->insert_certificate(make_certificate("5", "certificaterequest", "uid-2")));

  auto by_request = store->find_certificate_by_request("uid-1");
  REQUIRE_OK(by_request);
  REQUIRE(by_request->has_value());
  CHECK((*by_request)->serial == "1");
  auto unknown = store->find_certificate_by_request("uid-9");
  REQUIRE_OK(unknown);
  CHECK_FALSE(unknown->has_value());
  auto api_only = make_certificate("6", "api", "only-api");
  REQUIRE_OK(store->insert_certificate(api_only));
  CHECK(store->find_certificate_by_request("only-api").value() == std::nullopt);
}

TEST_CASE("a certificaterequest record without request id is rejected as invalid", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  auto r = store->insert_certificate(make_certificate("7", "certificaterequest", ""));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_argument);
}

TEST_CASE("a token id is accepted once per provisioner", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->use_token("admin", "jti-1", kT0 + 5min));
  auto replay = store->use_token("admin", "jti-1", kT0 + 5min);
  REQUIRE_FALSE(replay);
  CHECK(replay.error().code == Errc::already_exists);
  REQUIRE_OK(store->use_token("other", "jti-1", kT0 + 5min));
  REQUIRE_OK(store->use_token("admin", "jti-2", kT0 + 5min));
}

TEST_CASE("collect_used_tokens removes only ids that expired", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->use_token("admin", "old-1", kT0 - 10s));
  REQUIRE_OK(store->use_token("other", "old-2", kT0 - 1s));
  REQUIRE_OK(store->use_token("admin", "edge", kT0));
  REQUIRE_OK(store->use_token("admin", "live", kT0 + 5min));

  auto collected = store->collect_used_tokens(kT0);
  REQUIRE_OK(collected);
  CHECK(*collected == 2);
  // Collected ids are gone; the others are still refused.
  REQUIRE_OK(store->use_token("admin", "old-1", kT0 + 5min));
  CHECK(store->use_token("admin", "edge", kT0 + 5min).error().code == Errc::already_exists);
  CHECK(store->use_token("admin", "live", kT0 + 5min).error().code == Errc::already_exists);
  CHECK(store->collect_used_tokens(kT0).value() == 0);
}

TEST_CASE("an ACME nonce is used once, only while valid, and expired ones are collected", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->add_nonce("n-1", kT0 + 1h));
  CHECK(store->add_nonce("n-1", kT0 + 1h).error().code == Errc::already_exists);
  CHECK(store->consume_nonce("n-1", kT0).value());
  CHECK_FALSE(store->consume_nonce("n-1", kT0).value());  // a replay
  CHECK_FALSE(store->consume_nonce("never-issued", kT0).value());
  REQUIRE_OK(store->add_nonce("n-2", kT0 + 1h));
  CHECK_FALSE(store->consume_nonce("n-2", kT0 + 1h + 1s).value());  // expired
  REQUIRE_OK(store->add_nonce("n-3", kT0 - 1s));
  REQUIRE_OK(store->add_nonce("n-4", kT0 + 1h));
  CHECK(store->collect_used_tokens(kT0).value() == 1);  // n-3; n-2 and n-4 still valid
  CHECK(store->consume_nonce("n-4", kT0).value());
}

TEST_CASE("a serial is revoked once and its revocation reads back", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  RevocationRecord with_expiry{"1001", 4, "superseded by renewal", kT0, "mtls:1001", kT0 + 48h};
  RevocationRecord without_expiry{"1002", 0, "", kT0 + 1s, "acme:acct-7", std::nullopt};
  REQUIRE_OK(store->revoke(with_expiry));
  REQUIRE_OK(store->revoke(without_expiry));

  for (const auto& expected : {with_expiry, without_expiry}) {
    auto found = store->find_revocation(expected.serial);
    REQUIRE_OK(found);
    REQUIRE(found->has_value());
    const RevocationRecord& r = **found;
    CHECK(r.serial == expected.serial);
    CHECK(r.reason_code == expected.reason_code);
    CHECK(r.reason == expected.reason);
    CHECK(r.revoked_at == expected.revoked_at);
    CHECK(r.actor == expected.actor);
    CHECK(r.expires_at == expected.expires_at);
  }
  CHECK(store->find_revocation("9999").value() == std::nullopt);

  auto again = store->revoke(RevocationRecord{"1001", 1, "again", kT0 + 2s, "admin/bob", std::nullopt});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::already_exists);
  CHECK(store->find_revocation("1001").value()->reason == "superseded by renewal");
}

TEST_CASE("a revocation reason code outside RFC 5280 is rejected as invalid", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  for (int code : {-1, 7, 11}) {
    INFO("reason code " << code);
    auto r = store->revoke(RevocationRecord{"5", code, "", kT0, "admin", std::nullopt});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
  }
  CHECK(store->revocation_count().value() == 0);
}

TEST_CASE("list_revocations is oldest first and drops certificates that expired before the cutoff",
          "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->revoke(make_revocation("30", kT0 + 3s, kT0 + 1h)));          // live
  REQUIRE_OK(store->revoke(make_revocation("10", kT0 + 1s, kT0 - 1s)));          // expired
  REQUIRE_OK(store->revoke(make_revocation("20", kT0 + 2s, std::nullopt)));      // unknown expiry
  REQUIRE_OK(store->revoke(make_revocation("40", kT0 + 4s, kT0)));               // expires at the cutoff
  REQUIRE_OK(store->revoke(make_revocation("05", kT0 + 3s, kT0 + 2h)));          // same time as 30

  auto listed = store->list_revocations(kT0);
  REQUIRE_OK(listed);
  std::vector<std::string> serials;
  for (const auto& r : *listed) serials.push_back(r.serial);
  CHECK(serials == std::vector<std::string>{"20", "05", "30", "40"});

  auto all = store->list_revocations(kT0 - 1h);
  REQUIRE_OK(all);
  CHECK(all->size() == 5);
}

TEST_CASE("revocation_count counts every revocation", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  CHECK(store->revocation_count().value() == 0);
  REQUIRE_OK(store->revoke(make_revocation("1", kT0, kT0 - 1h)));
  REQUIRE_OK(store->revoke(make_revocation("2", kT0, std::nullopt)));
  CHECK(store->revocation_count().value() == 2);
  CHECK_FALSE(store->revoke(make_revocation("2", kT0, std::nullopt)));
  CHECK(store->revocation_count().value() == 2);
}

TEST_CASE("next_crl_number strictly increases", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  std::int64_t previous = 0;
  for (int i = 0; i < 20; ++i) {
    auto n = store->next_crl_number();
    REQUIRE_OK(n);
    CHECK(*n > previous);
    previous = *n;
  }
}

TEST_CASE("publish_crl keeps only a greater number and latest_crl returns it", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  auto none = store->latest_crl();
  REQUIRE_OK(none);
  CHECK_FALSE(none->has_value());

  std::string der("\x30\x82\x00\x10\xff\x00\x01", 7);  // binary, with a NUL byte
  REQUIRE_OK(store->publish_crl(CrlRecord{5, kT0, kT0 + 24h, der}));
  for (std::int64_t stale : {5, 4}) {
    INFO("stale number " << stale);
    auto r = store->publish_crl(CrlRecord{stale, kT0 + 1s, kT0 + 25h, "stale"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::failed_precondition);
  }
  auto latest = store->latest_crl();
  REQUIRE_OK(latest);
  REQUIRE(latest->has_value());
  CHECK((*latest)->number == 5);
  CHECK((*latest)->this_update == kT0);
  CHECK((*latest)->next_update == kT0 + 24h);
  CHECK((*latest)->der == der);

  REQUIRE_OK(store->publish_crl(CrlRecord{9, kT0 + 1h, kT0 + 25h, "newer"}));
  CHECK(store->latest_crl().value()->number == 9);
  CHECK(store->latest_crl().value()->der == "newer");
}

TEST_CASE("ping answers and describe names the backend", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->ping());
  CHECK(store->describe().starts_with(db.backend + " "));
  if (db.backend == "postgres") {
    CHECK_THAT(store->describe(), Catch::Contains("dbname=keystep_test_"));
    CHECK_THAT(store->describe(), !Catch::Contains(keystep::testing::shared_postgres().keystep_password()));
  } else {
    CHECK_THAT(store->describe(), Catch::Contains(db.config.sqlite_path.string()));
  }
}

TEST_CASE("opening a database twice applies each migration once and keeps its data", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  {
    auto store = open_or_throw(db, clock);
    REQUIRE_OK(store->use_token("admin", "jti-1", kT0 + 1h));
  }
  auto store = open_or_throw(db, clock);
  CHECK(store->use_token("admin", "jti-1", kT0 + 1h).error().code == Errc::already_exists);
  std::size_t migrations = db.backend == "sqlite" ? sqlite_migrations().size() : postgres_migrations().size();
  CHECK(db.query("SELECT count(*) FROM schema_migrations") == std::to_string(migrations));
  CHECK(db.query("SELECT min(applied_at) FROM schema_migrations") ==
        std::to_string(to_unix_seconds(kT0)));
}

TEST_CASE("a database migrated by a newer keystep is refused with failed_precondition", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  open_or_throw(db, clock).reset();
  db.query("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");

  auto refused = db.open(clock);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::failed_precondition);
  std::string latest = std::to_string(
      (db.backend == "sqlite" ? sqlite_migrations() : postgres_migrations()).back().version);
  CHECK(refused.error().message ==
        "database schema version 99 is newer than this keystep (" + latest + "); upgrade keystep");
}

}  // namespace
}  // namespace keystep::storage
