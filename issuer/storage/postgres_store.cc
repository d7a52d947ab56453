#include "issuer/storage/postgres_store.h"

#include "issuer/crypto/password.h"

#include <openssl/crypto.h>

#include "issuer/common/file.h"
#include "issuer/common/log.h"
#include "issuer/storage/migrations.h"
#include "issuer/storage/postgres_error.h"
#include "issuer/storage/record_codec.h"

namespace keystep::storage {
namespace {

using Param = PostgresStore::Param;

Param text(std::string_view value) { return Param{std::string(value)}; }
Param integer(std::int64_t value) { return Param{std::to_string(value)}; }
Param seconds(common::TimePoint t) { return integer(to_unix_seconds(t)); }

Result<PgResultPtr> run(PostgresPool::Lease& lease, const char* sql, const std::vector<Param>& params,
                        std::string_view what) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& p : params) {
    values.push_back(p.is_null ? nullptr : p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.is_binary ? 1 : 0);
  }
  PgResultPtr result(PQexecParams(lease.get(), sql, static_cast<int>(params.size()), nullptr, values.data(),
                                  lengths.data(), formats.data(), /*resultFormat=*/0));
  if (is_ok(result.get())) return result;
  Error error = postgres_error(lease.get(), result.get(), what);
  if (is_connection_broken(lease.get(), result.get())) {
    common::logger("storage")->warn("database connection lost backend=postgres error=\"{}\"", error.message);
    lease.mark_broken();
  }
  return tl::unexpected(std::move(error));
}

std::string_view value(const PGresult* r, int row, int column) {
  return {PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column))};
}

Result<std::int64_t> int_value(const PGresult* r, int row, int column) {
  return parse_int64(value(r, row, column));
}

Result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return fail(Errc::internal, "database returned odd-length hex");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail(Errc::internal, "database returned invalid hex");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Result<RevocationRecord> read_revocation(const PGresult* r, int row) {
  RevocationRecord rec;
  rec.serial = value(r, row, 0);
  auto code = int_value(r, row, 1);
  auto revoked_at = int_value(r, row, 3);
  if (!code) return tl::unexpected(code.error());
  if (!revoked_at) return tl::unexpected(revoked_at.error());
  rec.reason_code = static_cast<int>(*code);
  rec.reason = value(r, row, 2);
  rec.revoked_at = from_unix_seconds(*revoked_at);
  rec.actor = value(r, row, 4);
  if (!PQgetisnull(r, row, 5)) {
    auto expires_at = int_value(r, row, 5);
    if (!expires_at) return tl::unexpected(expires_at.error());
    rec.expires_at = from_unix_seconds(*expires_at);
  }
  return rec;
}

constexpr const char* kCertificateColumns =
    "serial, subject, sans::text, not_before, not_after, key_type, issuer_fingerprint, provisioner, requester, "
    "source, request_id, fingerprint, pem, created_at";
constexpr const char* kRevocationColumns = "serial, reason_code, reason, revoked_at, actor, expires_at";
constexpr const char* kAcmeObjectColumns =
    "kind, id, provisioner, owner, parent, lookup, status, document, version, created_at, expires_at";

Param null() { return Param{"", /*is_null=*/true}; }
// A lookup of "" is NULL: acme_objects_lookup_key skips NULLs, so objects
// without one never clash.
Param text_or_null(std::string_view value) { return value.empty() ? null() : text(value); }
Param seconds_or_null(const std::optional<common::TimePoint>& t) { return t ? seconds(*t) : null(); }

Result<AcmeObject> read_acme_object(const PGresult* r, int row) {
  auto kind = parse_acme_kind(value(r, row, 0));
  auto version = int_value(r, row, 8);
  auto created_at = int_value(r, row, 9);
  if (!kind) return tl::unexpected(kind.error());
  if (!version) return tl::unexpected(version.error());
  if (!created_at) return tl::unexpected(created_at.error());
  AcmeObject o;
  o.kind = *kind;
  o.id = value(r, row, 1);
  o.provisioner = value(r, row, 2);
  o.owner = value(r, row, 3);
  o.parent = value(r, row, 4);
  o.lookup = value(r, row, 5);  // NULL reads as ""
  o.status = value(r, row, 6);
  o.document = value(r, row, 7);
  o.version = *version;
  o.created_at = from_unix_seconds(*created_at);
  if (!PQgetisnull(r, row, 10)) {
    auto expires_at = int_value(r, row, 10);
    if (!expires_at) return tl::unexpected(expires_at.error());
    o.expires_at = from_unix_seconds(*expires_at);
  }
  return o;
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const StorageConfig& config, const common::Clock& clock) {
  crypto::SecretBytes password;
  if (!config.password_file.empty()) {
    auto read = crypto::read_password_file(config.password_file);
    if (!read) return tl::unexpected(with_context(read.error(), "storage.passwordFile"));
    password = std::move(*read);
  }
  auto pool = std::make_unique<PostgresPool>(config.dsn, std::move(password), config.connect_timeout,
                                             config.pool_size);
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(pool)));
  if (auto migrated = store->migrate(clock); !migrated) return tl::unexpected(migrated.error());
  return store;
}

Status PostgresStore::migrate(const common::Clock& clock) {
  auto lease = pool_->acquire();
  if (!lease) return tl::unexpected(lease.error());
  const std::vector<Param> lock_key = {integer(kMigrationLockKey)};
  // A session-level lock: replicas starting together queue here, and a
  // replica that dies while migrating releases it with its connection.
  if (auto locked = run(*lease, "SELECT pg_advisory_lock($1)", lock_key, "taking the migration lock"); !locked) {
    return tl::unexpected(locked.error());
  }
  auto apply = [&]() -> Status {
    auto created = run(*lease,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
                       {}, "creating schema_migrations");
    if (!created) return tl::unexpected(created.error());
    auto current = run(*lease, "SELECT coalesce(max(version), 0) FROM schema_migrations", {}, "reading schema version");
    if (!current) return tl::unexpected(current.error());
    auto version = int_value(current->get(), 0, 0);
    if (!version) return tl::unexpected(version.error());
    if (auto checked = check_schema_version(static_cast<int>(*version), postgres_migrations()); !checked) {
      return checked;
    }
    for (const Migration& m : postgres_migrations()) {
      if (m.version <= *version) continue;
      std::string what = "applying migration " + std::to_string(m.version);
      if (auto begun = run(*lease, "BEGIN", {}, what); !begun) return tl::unexpected(begun.error());
      // Migration SQL holds several statements and no parameters: PQexec.
      PgResultPtr applied(PQexec(lease->get(), std::string(m.sql).c_str()));
      Status step = ok();
      if (!is_ok(applied.get())) {
        step = tl::unexpected(postgres_error(lease->get(), applied.get(), what));
        if (is_connection_broken(lease->get(), applied.get())) lease->mark_broken();
      } else if (auto recorded = run(*lease, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                                     {integer(m.version), seconds(clock.now())}, what);
                 !recorded) {
        step = tl::unexpected(recorded.error());
      } else if (auto committed = run(*lease, "COMMIT", {}, what); !committed) {
        step = tl::unexpected(committed.error());
      }
      if (!step) {
        // Best effort: the error reported is the cause; a broken connection is dropped anyway.
        PgResultPtr rolled_back(PQexec(lease->get(), "ROLLBACK"));
        return step;
      }
      common::logger("storage")->info("schema migration applied backend=postgres version={} description=\"{}\"",
                                      m.version, m.description);
    }
    return ok();
  };
  Status applied = apply();
  if (auto unlocked = run(*lease, "SELECT pg_advisory_unlock($1)", lock_key, "releasing the migration lock");
      !unlocked) {
    lease->mark_broken();  // closing the session releases the lock
    if (applied) return tl::unexpected(unlocked.error());
  }
  return applied;
}

Result<PgResultPtr> PostgresStore::exec(const char* sql, const std::vector<Param>& params, std::string_view what) {
  auto lease = pool_->acquire();
  if (!lease) return tl::unexpected(lease.error());
  return run(*lease, sql, params, what);
}

Status PostgresStore::insert_certificate(const CertificateRecord& r) {
  if (auto checked = check_certificate(r); !checked) return checked;
  auto done = exec(
      "INSERT INTO certificates (serial, subject, sans, not_before, not_after, key_type, issuer_fingerprint, "
      "provisioner, requester, source, request_id, fingerprint, pem, created_at) "
      "VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
      {text(r.serial), text(r.subject), text(sans_to_json(r.sans)), seconds(r.not_before), seconds(r.not_after),
       text(r.key_type), text(r.issuer_fingerprint), text(r.provisioner), text(r.requester), text(r.source),
       text(r.request_id), text(r.fingerprint), text(r.pem), seconds(r.created_at)},
      "recording certificate " + r.serial);
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::optional<CertificateRecord>> PostgresStore::find_one_certificate(const char* sql, std::string_view key) {
  auto result = exec(sql, {text(key)}, "finding certificate");
  if (!result) return tl::unexpected(result.error());
  const PGresult* r = result->get();
  if (PQntuples(r) == 0) return std::optional<CertificateRecord>();
  CertificateRecord rec;
  rec.serial = value(r, 0, 0);
  rec.subject = value(r, 0, 1);
  auto sans = sans_from_json(value(r, 0, 2));
  if (!sans) return tl::unexpected(sans.error());
  rec.sans = std::move(*sans);
  auto not_before = int_value(r, 0, 3);
  auto not_after = int_value(r, 0, 4);
  auto created_at = int_value(r, 0, 13);
  for (const auto* t : {&not_before, &not_after, &created_at}) {
    if (!*t) return tl::unexpected(t->error());
  }
  rec.not_before = from_unix_seconds(*not_before);
  rec.not_after = from_unix_seconds(*not_after);
  rec.key_type = value(r, 0, 5);
  rec.issuer_fingerprint = value(r, 0, 6);
  rec.provisioner = value(r, 0, 7);
  rec.requester = value(r, 0, 8);
  rec.source = value(r, 0, 9);
  rec.request_id = value(r, 0, 10);
  rec.fingerprint = value(r, 0, 11);
  rec.pem = value(r, 0, 12);
  rec.created_at = from_unix_seconds(*created_at);
  return std::optional<CertificateRecord>(std::move(rec));
}

Result<std::optional<CertificateRecord>> PostgresStore::find_certificate(std::string_view serial) {
  static const std::string sql = std::string("SELECT ") + kCertificateColumns + " FROM certificates WHERE serial = $1";
  return find_one_certificate(sql.c_str(), serial);
}

Result<std::optional<CertificateRecord>> PostgresStore::find_certificate_by_request(std::string_view request_id) {
  static const std::string sql = std::string("SELECT ") + kCertificateColumns +
                                 " FROM certificates WHERE source = 'certificaterequest' AND request_id = $1";
  return find_one_certificate(sql.c_str(), request_id);
}

Status PostgresStore::use_token(std::string_view provisioner, std::string_view token_id,
                                common::TimePoint expires_at) {
  auto done = exec("INSERT INTO used_tokens (provisioner, token_id, expires_at) VALUES ($1, $2, $3)",
                   {text(provisioner), text(token_id), seconds(expires_at)}, "recording token use");
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::size_t> PostgresStore::collect_used_tokens(common::TimePoint now) {
  std::size_t collected = 0;
  for (const char* sql : {"DELETE FROM used_tokens WHERE expires_at < $1", "DELETE FROM acme_nonces WHERE expires_at < $1"}) {
    auto done = exec(sql, {seconds(now)}, "collecting used tokens");
    if (!done) return tl::unexpected(done.error());
    auto count = parse_int64(PQcmdTuples(done->get()));
    if (!count) return tl::unexpected(count.error());
    collected += static_cast<std::size_t>(*count);
  }
  return collected;
}

Result<std::size_t> PostgresStore::collect_acme_objects(common::TimePoint expired_before) {
  auto done = exec(
      "DELETE FROM acme_objects WHERE kind IN ('order', 'authorization') AND expires_at IS NOT NULL AND expires_at < $1",
      {seconds(expired_before)}, "collecting expired ACME orders");
  if (!done) return tl::unexpected(done.error());
  auto count = parse_int64(PQcmdTuples(done->get()));
  if (!count) return tl::unexpected(count.error());
  return static_cast<std::size_t>(*count);
}

Status PostgresStore::add_nonce(std::string_view nonce, common::TimePoint expires_at) {
  auto done = exec("INSERT INTO acme_nonces (nonce, expires_at) VALUES ($1, $2)", {text(nonce), seconds(expires_at)},
                   "recording a nonce");
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<bool> PostgresStore::consume_nonce(std::string_view nonce, common::TimePoint now) {
  auto done = exec("DELETE FROM acme_nonces WHERE nonce = $1 AND expires_at >= $2", {text(nonce), seconds(now)},
                   "using a nonce");
  if (!done) return tl::unexpected(done.error());
  auto count = parse_int64(PQcmdTuples(done->get()));
  if (!count) return tl::unexpected(count.error());
  return *count == 1;
}

Status PostgresStore::insert_acme_objects(const std::vector<AcmeObject>& objects) {
  if (auto checked = check_acme_objects(objects); !checked) return checked;
  if (objects.empty()) return ok();
  // One multi-row INSERT: a single statement, so all rows or none.
  std::string sql =
      "INSERT INTO acme_objects (kind, id, provisioner, owner, parent, lookup, status, document, version, "
      "created_at, expires_at) VALUES ";
  std::vector<Param> params;
  for (const AcmeObject& o : objects) {
    std::vector<Param> row = {text(acme_kind_name(o.kind)), text(o.id), text(o.provisioner), text(o.owner),
                              text(o.parent), text_or_null(o.lookup), text(o.status), text(o.document),
                              integer(1), seconds(o.created_at), seconds_or_null(o.expires_at)};
    sql += params.empty() ? "(" : ", (";
    for (std::size_t i = 0; i < row.size(); ++i) {
      params.push_back(std::move(row[i]));
      sql += (i == 0 ? "$" : ", $") + std::to_string(params.size());
    }
    sql += ")";
  }
  auto done = exec(sql.c_str(), params,
                   objects.size() == 1 ? "recording " + describe_acme_object(objects[0].kind, objects[0].id)
                                       : "recording acme objects");
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::optional<AcmeObject>> PostgresStore::find_one_acme_object(const char* sql, AcmeKind kind,
                                                                      std::string_view key) {
  auto result = exec(sql, {text(acme_kind_name(kind)), text(key)}, "finding " + describe_acme_object(kind, key));
  if (!result) return tl::unexpected(result.error());
  if (PQntuples(result->get()) == 0) return std::optional<AcmeObject>();
  auto object = read_acme_object(result->get(), 0);
  if (!object) return tl::unexpected(object.error());
  return std::optional<AcmeObject>(std::move(*object));
}

Result<std::optional<AcmeObject>> PostgresStore::find_acme_object(AcmeKind kind, std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kAcmeObjectColumns + " FROM acme_objects WHERE kind = $1 AND id = $2";
  return find_one_acme_object(sql.c_str(), kind, id);
}

Result<std::optional<AcmeObject>> PostgresStore::find_acme_object_by_lookup(AcmeKind kind, std::string_view lookup) {
  static const std::string sql =
      std::string("SELECT ") + kAcmeObjectColumns + " FROM acme_objects WHERE kind = $1 AND lookup = $2";
  return find_one_acme_object(sql.c_str(), kind, lookup);
}

Result<std::vector<AcmeObject>> PostgresStore::list_acme_objects(AcmeKind kind, std::string_view key,
                                                                 bool by_parent) {
  static const std::string by_owner_sql = std::string("SELECT ") + kAcmeObjectColumns +
                                          " FROM acme_objects WHERE kind = $1 AND owner = $2 ORDER BY created_at, id";
  static const std::string by_parent_sql =
      std::string("SELECT ") + kAcmeObjectColumns +
      " FROM acme_objects WHERE kind = $1 AND parent = $2 ORDER BY created_at, id";
  auto result = exec(by_parent ? by_parent_sql.c_str() : by_owner_sql.c_str(), {text(acme_kind_name(kind)), text(key)},
                     "listing acme objects");
  if (!result) return tl::unexpected(result.error());
  std::vector<AcmeObject> out;
  for (int row = 0; row < PQntuples(result->get()); ++row) {
    auto object = read_acme_object(result->get(), row);
    if (!object) return tl::unexpected(object.error());
    out.push_back(std::move(*object));
  }
  return out;
}

Result<std::int64_t> PostgresStore::update_acme_object(const AcmeObject& o) {
  const std::string what = "updating " + describe_acme_object(o.kind, o.id);
  // One statement compares and swaps. Under READ COMMITTED a concurrent
  // update of the row waits for the first to commit, then re-checks the
  // version against the new row: exactly one of them changes it.
  auto updated = exec(
      "UPDATE acme_objects SET status = $1, lookup = $2, document = $3, expires_at = $4, version = version + 1 "
      "WHERE kind = $5 AND id = $6 AND version = $7 RETURNING version",
      {text(o.status), text_or_null(o.lookup), text(o.document), seconds_or_null(o.expires_at),
       text(acme_kind_name(o.kind)), text(o.id), integer(o.version)},
      what);
  if (!updated) return tl::unexpected(updated.error());
  if (PQntuples(updated->get()) == 1) return int_value(updated->get(), 0, 0);
  // Nothing changed. ACME objects are never deleted, so a row that exists
  // now existed then: its version moved on.
  auto current = exec("SELECT version FROM acme_objects WHERE kind = $1 AND id = $2",
                      {text(acme_kind_name(o.kind)), text(o.id)}, what);
  if (!current) return tl::unexpected(current.error());
  if (PQntuples(current->get()) == 0) return fail(Errc::not_found, describe_acme_object(o.kind, o.id) + " not found");
  return fail(Errc::failed_precondition, describe_acme_object(o.kind, o.id) + " is at version " +
                                             std::string(value(current->get(), 0, 0)) + ", not " +
                                             std::to_string(o.version));
}

Status PostgresStore::revoke(const RevocationRecord& r) {
  if (auto checked = check_revocation(r); !checked) return checked;
  Param expires_at = r.expires_at ? seconds(*r.expires_at) : Param{"", /*is_null=*/true};
  auto done = exec(
      "INSERT INTO revocations (serial, reason_code, reason, revoked_at, actor, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {text(r.serial), integer(r.reason_code), text(r.reason), seconds(r.revoked_at), text(r.actor), expires_at},
      "revoking " + r.serial);
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::optional<RevocationRecord>> PostgresStore::find_revocation(std::string_view serial) {
  static const std::string sql = std::string("SELECT ") + kRevocationColumns + " FROM revocations WHERE serial = $1";
  auto result = exec(sql.c_str(), {text(serial)}, "finding revocation");
  if (!result) return tl::unexpected(result.error());
  if (PQntuples(result->get()) == 0) return std::optional<RevocationRecord>();
  auto rec = read_revocation(result->get(), 0);
  if (!rec) return tl::unexpected(rec.error());
  return std::optional<RevocationRecord>(std::move(*rec));
}

Result<std::vector<RevocationRecord>> PostgresStore::list_revocations(common::TimePoint expired_before) {
  static const std::string sql = std::string("SELECT ") + kRevocationColumns +
                                 " FROM revocations WHERE expires_at IS NULL OR expires_at >= $1"
                                 " ORDER BY revoked_at, serial";
  auto result = exec(sql.c_str(), {seconds(expired_before)}, "listing revocations");
  if (!result) return tl::unexpected(result.error());
  std::vector<RevocationRecord> out;
  for (int row = 0; row < PQntuples(result->get()); ++row) {
    auto rec = read_revocation(result->get(), row);
    if (!rec) return tl::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
  return out;
}

Result<std::int64_t> PostgresStore::revocation_count() {
  auto result = exec("SELECT count(*) FROM revocations", {}, "counting revocations");
  if (!result) return tl::unexpected(result.error());
  return int_value(result->get(), 0, 0);
}

Status PostgresStore::publish_crl(const CrlRecord& crl) {
  // The WHERE makes the check and the write one statement: a replica that
  // signed an older number cannot overwrite a newer CRL.
  auto done = exec(
      "INSERT INTO crl (id, number, this_update, next_update, der) VALUES (1, $1, $2, $3, $4) "
      "ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number, this_update = EXCLUDED.this_update, "
      "next_update = EXCLUDED.next_update, der = EXCLUDED.der WHERE crl.number < EXCLUDED.number",
      {integer(crl.number), seconds(crl.this_update), seconds(crl.next_update),
       Param{crl.der, /*is_null=*/false, /*is_binary=*/true}},
      "publishing crl");
  if (!done) return tl::unexpected(done.error());
  if (std::string_view(PQcmdTuples(done->get())) == "0") {
    return fail(Errc::failed_precondition,
                "crl number " + std::to_string(crl.number) + " is not greater than the published one");
  }
  return ok();
}

Result<std::optional<CrlRecord>> PostgresStore::latest_crl() {
  auto result = exec("SELECT number, this_update, next_update, encode(der, 'hex') FROM crl WHERE id = 1", {},
                     "reading crl");
  if (!result) return tl::unexpected(result.error());
  const PGresult* r = result->get();
  if (PQntuples(r) == 0) return std::optional<CrlRecord>();
  auto number = int_value(r, 0, 0);
  auto this_update = int_value(r, 0, 1);
  auto next_update = int_value(r, 0, 2);
  auto der = from_hex(value(r, 0, 3));
  if (!number) return tl::unexpected(number.error());
  if (!this_update) return tl::unexpected(this_update.error());
  if (!next_update) return tl::unexpected(next_update.error());
  if (!der) return tl::unexpected(der.error());
  return std::optional<CrlRecord>(CrlRecord{*number, from_unix_seconds(*this_update),
                                            from_unix_seconds(*next_update), std::move(*der)});
}

Result<std::int64_t> PostgresStore::next_crl_number() {
  auto result = exec("SELECT nextval('crl_number_seq')", {}, "taking the next crl number");
  if (!result) return tl::unexpected(result.error());
  return int_value(result->get(), 0, 0);
}

Status PostgresStore::ping() {
  auto result = exec("SELECT 1", {}, "ping");
  if (!result) return tl::unexpected(result.error());
  return ok();
}

std::string PostgresStore::describe() const { return pool_->describe(); }

}  // namespace keystep::storage
