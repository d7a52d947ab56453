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

AcmeObject make_acme(AcmeKind kind, const std::string& id, const std::string& owner = "",
                     const std::string& parent = "", common::TimePoint created_at = kT0) {
  AcmeObject o;
  o.kind = kind;
  o.id = id;
  o.provisioner = "acme";
  o.owner = owner;
  o.parent = parent;
  o.status = "pending";
  o.document = R"({"status":"pending","id":")" + id + R"("})";
  o.created_at = created_at;
  if (kind == AcmeKind::order || kind == AcmeKind::authorization) o.expires_at = created_at + 24h;
  return o;
}

AcmeObject make_account(const std::string& id, const std::string& lookup) {
  AcmeObject o = make_acme(AcmeKind::account, id);
  o.lookup = lookup;
  o.status = "valid";
  return o;
}

std::vector<std::string> ids(const std::vector<AcmeObject>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.id);
  return out;
}

void check_same_acme(const AcmeObject& got, const AcmeObject& want) {
  CHECK(got.kind == want.kind);
  CHECK(got.id == want.id);
  CHECK(got.provisioner == want.provisioner);
  CHECK(got.owner == want.owner);
  CHECK(got.parent == want.parent);
  CHECK(got.lookup == want.lookup);
  CHECK(got.status == want.status);
  CHECK(got.document == want.document);
  CHECK(got.version == want.version);
  CHECK(got.created_at == want.created_at);
  CHECK(got.expires_at == want.expires_at);
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

TEST_CASE("an ACME object reads back with every field", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  AcmeObject account = make_account("acct-1", "acme/thumb-1");
  account.version = 7;  // ignored: the Store sets 1
  REQUIRE_FALSE(account.expires_at.has_value());
  AcmeObject order = make_acme(AcmeKind::order, "order-1", "acct-1", "", kT0 + 1s);
  order.document = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"quote'\\\"\u00e9.internal\"}]}\n";
  AcmeObject authz = make_acme(AcmeKind::authorization, "authz-1", "acct-1", "order-1", kT0 + 2s);
  AcmeObject binding = make_acme(AcmeKind::eab_binding, "acme/kid-1");
  binding.document = "";
  REQUIRE_OK(store->insert_acme_objects({account}));
  REQUIRE_OK(store->insert_acme_objects({order, authz, binding}));

  for (AcmeObject want : {account, order, authz, binding}) {
    INFO("acme object " << want.id);
    want.version = 1;
    auto found = store->find_acme_object(want.kind, want.id);
    REQUIRE_OK(found);
    REQUIRE(found->has_value());
    check_same_acme(**found, want);
  }
  // Only the account has a lookup; "" is stored as NULL.
  CHECK(db.query("SELECT count(*) FROM acme_objects WHERE lookup IS NULL") == "3");
  CHECK(db.query("SELECT kind FROM acme_objects WHERE id = 'authz-1'") == "authorization");

  auto by_lookup = store->find_acme_object_by_lookup(AcmeKind::account, "acme/thumb-1");
  REQUIRE_OK(by_lookup);
  REQUIRE(by_lookup->has_value());
  CHECK((*by_lookup)->id == "acct-1");
  CHECK(store->find_acme_object_by_lookup(AcmeKind::order, "acme/thumb-1").value() == std::nullopt);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::account, "acme/thumb-2").value() == std::nullopt);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::order, "").value() == std::nullopt);
  CHECK(store->find_acme_object(AcmeKind::order, "acct-1").value() == std::nullopt);
  CHECK(store->find_acme_object(AcmeKind::account, "acct-9").value() == std::nullopt);
}

TEST_CASE("an ACME id or lookup taken within its kind fails with already_exists", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_account("acct-1", "acme/thumb-1")}));
  auto same_id = store->insert_acme_objects({make_account("acct-1", "acme/thumb-2")});
  REQUIRE_FALSE(same_id);
  CHECK(same_id.error().code == Errc::already_exists);
  auto same_lookup = store->insert_acme_objects({make_account("acct-2", "acme/thumb-1")});
  REQUIRE_FALSE(same_lookup);
  CHECK(same_lookup.error().code == Errc::already_exists);
  CHECK(store->find_acme_object(AcmeKind::account, "acct-2").value() == std::nullopt);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::account, "acme/thumb-1").value()->id == "acct-1");

  // The same id or lookup under another kind is another object.
  AcmeObject order = make_acme(AcmeKind::order, "acct-1", "acct-1");
  order.lookup = "acme/thumb-1";
  REQUIRE_OK(store->insert_acme_objects({order}));
  // Objects without a lookup never clash on it.
  REQUIRE_OK(store->insert_acme_objects({make_account("acct-3", ""), make_account("acct-4", "")}));
}

TEST_CASE("a failing multi-object ACME insert inserts nothing", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_acme(AcmeKind::authorization, "authz-taken", "acct-1", "order-0")}));
  auto clash = store->insert_acme_objects({make_acme(AcmeKind::order, "order-1", "acct-1"),
                                           make_acme(AcmeKind::authorization, "authz-1", "acct-1", "order-1"),
                                           make_acme(AcmeKind::authorization, "authz-taken", "acct-1", "order-1")});
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code == Errc::already_exists);
  CHECK(store->find_acme_object(AcmeKind::order, "order-1").value() == std::nullopt);
  CHECK(store->find_acme_object(AcmeKind::authorization, "authz-1").value() == std::nullopt);
  CHECK(store->find_acme_object(AcmeKind::authorization, "authz-taken").value()->parent == "order-0");

  // Two objects of one batch clashing with each other.
  auto within = store->insert_acme_objects({make_account("acct-2", "acme/k"), make_account("acct-3", "acme/k")});
  REQUIRE_FALSE(within);
  CHECK(within.error().code == Errc::already_exists);
  CHECK(store->find_acme_object(AcmeKind::account, "acct-2").value() == std::nullopt);

  auto no_id = store->insert_acme_objects({make_account("acct-4", ""), make_account("", "")});
  REQUIRE_FALSE(no_id);
  CHECK(no_id.error().code == Errc::invalid_argument);
  CHECK(store->find_acme_object(AcmeKind::account, "acct-4").value() == std::nullopt);
  REQUIRE_OK(store->insert_acme_objects({}));
  CHECK(db.query("SELECT count(*) FROM acme_objects") == "1");
}

TEST_CASE("ACME objects list by owner or by parent, oldest first", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({
      make_acme(AcmeKind::order, "o-c", "acct-1", "", kT0 + 2s),
      make_acme(AcmeKind::order, "o-b", "acct-1", "", kT0 + 1s),
      make_acme(AcmeKind::order, "o-a", "acct-1", "", kT0 + 2s),  // same time as o-c: by id
      make_acme(AcmeKind::order, "o-x", "acct-2", "", kT0),
      make_acme(AcmeKind::authorization, "z-2", "acct-1", "o-a", kT0 + 5s),
      make_acme(AcmeKind::authorization, "z-1", "acct-1", "o-a", kT0 + 5s),
      make_acme(AcmeKind::authorization, "z-3", "acct-1", "o-b", kT0 + 3s),
  }));

  auto orders = store->list_acme_objects(AcmeKind::order, "acct-1");
  REQUIRE_OK(orders);
  CHECK(ids(*orders) == std::vector<std::string>{"o-b", "o-a", "o-c"});
  CHECK((*orders)[0].document == make_acme(AcmeKind::order, "o-b").document);
  CHECK(ids(store->list_acme_objects(AcmeKind::order, "acct-2").value()) == std::vector<std::string>{"o-x"});
  CHECK(ids(store->list_acme_objects(AcmeKind::authorization, "acct-1").value()) ==
        std::vector<std::string>{"z-3", "z-1", "z-2"});

  auto authzs = store->list_acme_objects(AcmeKind::authorization, "o-a", /*by_parent=*/true);
  REQUIRE_OK(authzs);
  CHECK(ids(*authzs) == std::vector<std::string>{"z-1", "z-2"});
  CHECK(ids(store->list_acme_objects(AcmeKind::authorization, "o-b", true).value()) ==
        std::vector<std::string>{"z-3"});
  // The key is matched against the owner or the parent, never both.
  CHECK(store->list_acme_objects(AcmeKind::authorization, "o-a").value().empty());
  CHECK(store->list_acme_objects(AcmeKind::order, "acct-9").value().empty());
}

TEST_CASE("update_acme_object replaces the mutable fields and bumps the version", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  AcmeObject order = make_acme(AcmeKind::order, "order-1", "acct-1");
  REQUIRE_OK(store->insert_acme_objects({order}));
  AcmeObject read = store->find_acme_object(AcmeKind::order, "order-1").value().value();
  REQUIRE(read.version == 1);

  AcmeObject changed = read;
  changed.status = "ready";
  changed.lookup = "cert/1001";
  changed.document = R"({"status":"ready"})";
  changed.expires_at = std::nullopt;
  // Not replaced by an update: the object's identity and history.
  changed.provisioner = "other";
  changed.owner = "acct-2";
  changed.parent = "p";
  changed.created_at = kT0 + 1h;
  auto version = store->update_acme_object(changed);
  REQUIRE_OK(version);
  CHECK(*version == 2);

  AcmeObject want = order;
  want.status = "ready";
  want.lookup = "cert/1001";
  want.document = R"({"status":"ready"})";
  want.expires_at = std::nullopt;
  want.version = 2;
  check_same_acme(store->find_acme_object(AcmeKind::order, "order-1").value().value(), want);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::order, "cert/1001").value()->id == "order-1");

  want.status = "valid";
  want.lookup = "";
  want.expires_at = kT0 + 48h;
  auto again = store->update_acme_object(want);
  REQUIRE_OK(again);
  CHECK(*again == 3);
  want.version = 3;
  check_same_acme(store->find_acme_object(AcmeKind::order, "order-1").value().value(), want);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::order, "cert/1001").value() == std::nullopt);
}

TEST_CASE("an ACME update with a stale version fails with failed_precondition", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_acme(AcmeKind::authorization, "authz-1", "acct-1", "order-1")}));
  AcmeObject first = store->find_acme_object(AcmeKind::authorization, "authz-1").value().value();
  AcmeObject second = first;
  first.status = "valid";
  REQUIRE_OK(store->update_acme_object(first));

  for (std::int64_t stale : {1, 0, 3}) {
    INFO("version " << stale);
    second.version = stale;
    second.status = "invalid";
    second.document = "{}";
    auto lost = store->update_acme_object(second);
    REQUIRE_FALSE(lost);
    CHECK(lost.error().code == Errc::failed_precondition);
  }
  AcmeObject now = store->find_acme_object(AcmeKind::authorization, "authz-1").value().value();
  CHECK(now.version == 2);
  CHECK(now.status == "valid");
  CHECK(now.document == first.document);
}

TEST_CASE("updating a missing ACME object fails with not_found", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_account("acct-1", "acme/thumb-1")}));
  AcmeObject missing = make_account("acct-9", "");
  missing.version = 1;
  auto r = store->update_acme_object(missing);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  AcmeObject other_kind = make_acme(AcmeKind::order, "acct-1");
  other_kind.version = 1;
  CHECK(store->update_acme_object(other_kind).error().code == Errc::not_found);
  CHECK(store->find_acme_object(AcmeKind::order, "acct-1").value() == std::nullopt);
}

TEST_CASE("an ACME update onto a taken lookup fails with already_exists", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_account("acct-1", "acme/k1"), make_account("acct-2", "acme/k2")}));
  // A key change (RFC 8555 7.3.5) onto another account's key.
  AcmeObject rollover = store->find_acme_object(AcmeKind::account, "acct-2").value().value();
  rollover.lookup = "acme/k1";
  rollover.status = "deactivated";
  auto clash = store->update_acme_object(rollover);
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code == Errc::already_exists);
  AcmeObject unchanged = store->find_acme_object(AcmeKind::account, "acct-2").value().value();
  CHECK(unchanged.version == 1);
  CHECK(unchanged.lookup == "acme/k2");
  CHECK(unchanged.status == "valid");

  rollover.lookup = "acme/k3";
  CHECK(store->update_acme_object(rollover).value() == 2);
  CHECK(store->find_acme_object_by_lookup(AcmeKind::account, "acme/k3").value()->id == "acct-2");
  CHECK(store->find_acme_object_by_lookup(AcmeKind::account, "acme/k2").value() == std::nullopt);
}

TEST_CASE("collect_used_tokens keeps expired ACME objects", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  REQUIRE_OK(store->insert_acme_objects({make_acme(AcmeKind::order, "old", "acct-1", "", kT0 - 48h)}));
  REQUIRE_OK(store->add_nonce("n-old", kT0 - 1s));
  CHECK(store->collect_used_tokens(kT0).value() == 1);
  CHECK(store->find_acme_object(AcmeKind::order, "old").value().has_value());
}

TEST_CASE("collect_acme_objects deletes expired orders and authorizations only", "[storage][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  // make_acme: orders and authorizations expire 24h after created_at.
  REQUIRE_OK(store->insert_acme_objects({make_account("acct-1", "acme/k1"),
                                         make_acme(AcmeKind::order, "old", "acct-1", "", kT0 - 72h),
                                         make_acme(AcmeKind::authorization, "old-authz", "acct-1", "old", kT0 - 72h),
                                         make_acme(AcmeKind::order, "fresh", "acct-1", "", kT0),
                                         make_acme(AcmeKind::authorization, "fresh-authz", "acct-1", "fresh", kT0)}));
  CHECK(store->collect_acme_objects(kT0 - 24h).value() == 2);
  CHECK_FALSE(store->find_acme_object(AcmeKind::order, "old").value().has_value());
  CHECK_FALSE(store->find_acme_object(AcmeKind::authorization, "old-authz").value().has_value());
  CHECK(store->find_acme_object(AcmeKind::order, "fresh").value().has_value());
  CHECK(store->find_acme_object(AcmeKind::authorization, "fresh-authz").value().has_value());
  CHECK(store->find_acme_object(AcmeKind::account, "acct-1").value().has_value());
  CHECK(store->collect_acme_objects(kT0 - 24h).value() == 0);
  // A deleted object's update says so.
  auto gone = make_acme(AcmeKind::order, "old", "acct-1", "", kT0 - 72h);
  gone.version = 1;
  auto updated = store->update_acme_object(gone);
  REQUIRE_FALSE(updated);
  CHECK(updated.error().code == Errc::not_found);
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

TEST_CASE("both dialects number their migrations alike and a fresh database has them all", "[storage]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  auto sqlite = sqlite_migrations();
  auto postgres = postgres_migrations();
  REQUIRE(sqlite.size() == postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    CHECK(sqlite[i].version == static_cast<int>(i) + 1);
    CHECK(postgres[i].version == sqlite[i].version);
    CHECK(postgres[i].description == sqlite[i].description);
  }
  CHECK(sqlite.back().version == 3);
  CHECK(db.query("SELECT max(version) FROM schema_migrations") == "3");
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
