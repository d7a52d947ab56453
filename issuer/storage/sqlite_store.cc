#include "issuer/storage/sqlite_store.h"

#include <chrono>
#include <thread>

#include "issuer/common/log.h"
#include "issuer/storage/migrations.h"
#include "issuer/storage/record_codec.h"

namespace keystep::storage {
namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Error{Errc::already_exists, std::move(message)};
      }
      return Error{Errc::invalid_argument, std::move(message)};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Error{Errc::unavailable, std::move(message)};
    default:
      return Error{Errc::internal, std::move(message)};
  }
}

std::string_view column_text(sqlite3_stmt* stmt, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return text == nullptr ? std::string_view() : std::string_view(text, sqlite3_column_bytes(stmt, i));
}

constexpr const char* kCertificateColumns =
    "serial, subject, sans, not_before, not_after, key_type, issuer_fingerprint, provisioner, requester, source, "
    "request_id, fingerprint, pem, created_at";
constexpr const char* kAcmeObjectColumns =
    "kind, id, provisioner, owner, parent, lookup, status, document, version, created_at, expires_at";

}  // namespace

// Statement lends a cached prepared statement for one call and resets it
// (and its bindings) when it goes out of scope.
class SqliteStore::Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  // bind_or_null binds "" or nullopt as NULL.
  Statement& bind_or_null(int index, std::string_view text) {
    return text.empty() ? bind_null(index) : bind(index, text);
  }
  Statement& bind_or_null(int index, std::optional<std::int64_t> value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // step returns true while there is a row.
  [[nodiscard]] Result<bool> step(std::string_view what) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return tl::unexpected(sqlite_error(db_, rc, what));
  }
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

SqliteStore::SqliteStore(SqlitePtr db, std::filesystem::path path) : db_(std::move(db)), path_(std::move(path)) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path,
                                                       const common::Clock& clock) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  SqlitePtr db(raw);
  std::string what = "opening sqlite database " + path.string();
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db.get(), rc, what));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(kSqliteBusyTimeout.count()));
  // synchronous=FULL: an issuance is durable before the certificate is returned.
  // Switching a fresh file to WAL needs a moment of exclusive access, and
  // SQLite answers BUSY at once (no busy handler) when another process
  // opening the same file holds it: retry within the busy timeout.
  const auto deadline = std::chrono::steady_clock::now() + kSqliteBusyTimeout;
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    for (;;) {
      rc = sqlite3_exec(db.get(), pragma, nullptr, nullptr, nullptr);
      const int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db.get(), rc, what));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), path));
  if (auto migrated = store->migrate(clock); !migrated) return tl::unexpected(migrated.error());
  return store;
}

Status SqliteStore::migrate(const common::Clock& clock) {
  std::lock_guard lock(mu_);
  auto exec = [&](const char* sql, std::string_view what) -> Status {
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db_.get(), rc, what));
    return ok();
  };
  // BEGIN IMMEDIATE takes the write lock up front: a second process opening
  // the same file waits here, then sees the migrations already applied.
  if (auto begun = exec("BEGIN IMMEDIATE", "starting migration"); !begun) return begun;
  auto apply = [&]() -> Status {
    if (auto created = exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                            "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
                            "creating schema_migrations");
        !created) {
      return created;
    }
    int current = 0;
    {
      auto stmt = prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
      if (!stmt) return tl::unexpected(stmt.error());
      auto row = stmt->step("reading schema version");
      if (!row) return tl::unexpected(row.error());
      current = sqlite3_column_int(stmt->get(), 0);
    }
    if (auto checked = check_schema_version(current, sqlite_migrations()); !checked) return checked;
    for (const Migration& m : sqlite_migrations()) {
      if (m.version <= current) continue;
      std::string what = "applying migration " + std::to_string(m.version);
      if (auto applied = exec(std::string(m.sql).c_str(), what); !applied) return applied;
      auto stmt = prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      if (!stmt) return tl::unexpected(stmt.error());
      stmt->bind(1, std::int64_t{m.version}).bind(2, to_unix_seconds(clock.now()));
      if (auto done = stmt->step(what); !done) return tl::unexpected(done.error());
      common::logger("storage")->info("schema migration applied backend=sqlite version={} description=\"{}\"",
                                      m.version, m.description);
    }
    return ok();
  };
  auto applied = apply();
  if (!applied) {
    // The migration failed; rolling back is best effort, the error reported is the cause.
    (void)sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return applied;
  }
  return exec("COMMIT", "committing migration");
}

Result<SqliteStore::Statement> SqliteStore::prepare(const char* sql) {
  auto& cached = statements_[sql];
  if (!cached) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    cached.reset(raw);
    if (rc != SQLITE_OK) {
      statements_.erase(sql);
      return tl::unexpected(sqlite_error(db_.get(), rc, "preparing statement"));
    }
  }
  return Statement(db_.get(), cached.get());
}

Status SqliteStore::insert_certificate(const CertificateRecord& r) {
  if (auto checked = check_certificate(r); !checked) return checked;
  std::lock_guard lock(mu_);
  auto stmt = prepare(
      "INSERT INTO certificates (serial, subject, sans, not_before, not_after, key_type, issuer_fingerprint, "
      "provisioner, requester, source, request_id, fingerprint, pem, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, r.serial).bind(2, r.subject).bind(3, sans_to_json(r.sans));
  stmt->bind(4, to_unix_seconds(r.not_before)).bind(5, to_unix_seconds(r.not_after)).bind(6, r.key_type);
  stmt->bind(7, r.issuer_fingerprint).bind(8, r.provisioner).bind(9, r.requester).bind(10, r.source);
  stmt->bind(11, r.request_id).bind(12, r.fingerprint).bind(13, r.pem).bind(14, to_unix_seconds(r.created_at));
  auto done = stmt->step("recording certificate " + r.serial);
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::optional<CertificateRecord>> SqliteStore::find_one_certificate(const char* sql, std::string_view key) {
  std::lock_guard lock(mu_);
  auto stmt = prepare(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, key);
  auto row = stmt->step("finding certificate");
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<CertificateRecord>();
  sqlite3_stmt* s = stmt->get();
  CertificateRecord r;
  r.serial = column_text(s, 0);
  r.subject = column_text(s, 1);
  auto sans = sans_from_json(column_text(s, 2));
  if (!sans) return tl::unexpected(sans.error());
  r.sans = std::move(*sans);
  r.not_before = from_unix_seconds(sqlite3_column_int64(s, 3));
  r.not_after = from_unix_seconds(sqlite3_column_int64(s, 4));
  r.key_type = column_text(s, 5);
  r.issuer_fingerprint = column_text(s, 6);
  r.provisioner = column_text(s, 7);
  r.requester = column_text(s, 8);
  r.source = column_text(s, 9);
  r.request_id = column_text(s, 10);
  r.fingerprint = column_text(s, 11);
  r.pem = column_text(s, 12);
  r.created_at = from_unix_seconds(sqlite3_column_int64(s, 13));
  return std::optional<CertificateRecord>(std::move(r));
}

Result<std::optional<CertificateRecord>> SqliteStore::find_certificate(std::string_view serial) {
  static const std::string sql = std::string("SELECT ") + kCertificateColumns + " FROM certificates WHERE serial = ?";
  return find_one_certificate(sql.c_str(), serial);
}

Result<std::optional<CertificateRecord>> SqliteStore::find_certificate_by_request(std::string_view request_id) {
  static const std::string sql = std::string("SELECT ") + kCertificateColumns +
                                 " FROM certificates WHERE source = 'certificaterequest' AND request_id = ?";
  return find_one_certificate(sql.c_str(), request_id);
}

Status SqliteStore::use_token(std::string_view provisioner, std::string_view token_id,
                              common::TimePoint expires_at) {
  std::lock_guard lock(mu_);
  auto stmt = prepare("INSERT INTO used_tokens (provisioner, token_id, expires_at) VALUES (?, ?, ?)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, provisioner).bind(2, token_id).bind(3, to_unix_seconds(expires_at));
  auto done = stmt->step("recording token use");
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<std::size_t> SqliteStore::collect_used_tokens(common::TimePoint now) {
  std::lock_guard lock(mu_);
  std::size_t collected = 0;
  for (const char* sql : {"DELETE FROM used_tokens WHERE expires_at < ?", "DELETE FROM acme_nonces WHERE expires_at < ?"}) {
    auto stmt = prepare(sql);
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->bind(1, to_unix_seconds(now));
    auto done = stmt->step("collecting used tokens");
    if (!done) return tl::unexpected(done.error());
    collected += static_cast<std::size_t>(sqlite3_changes(db_.get()));
  }
  return collected;
}

Result<std::size_t> SqliteStore::collect_acme_objects(common::TimePoint expired_before) {
  std::lock_guard lock(mu_);
  auto stmt = prepare(
      "DELETE FROM acme_objects WHERE kind IN ('order', 'authorization') AND expires_at IS NOT NULL AND expires_at < ?");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, to_unix_seconds(expired_before));
  auto done = stmt->step("collecting expired ACME orders");
  if (!done) return tl::unexpected(done.error());
  return static_cast<std::size_t>(sqlite3_changes(db_.get()));
}

Status SqliteStore::add_nonce(std::string_view nonce, common::TimePoint expires_at) {
  std::lock_guard lock(mu_);
  auto stmt = prepare("INSERT INTO acme_nonces (nonce, expires_at) VALUES (?, ?)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, nonce).bind(2, to_unix_seconds(expires_at));
  auto done = stmt->step("recording a nonce");
  if (!done) return tl::unexpected(done.error());
  return ok();
}

Result<bool> SqliteStore::consume_nonce(std::string_view nonce, common::TimePoint now) {
  std::lock_guard lock(mu_);
  auto stmt = prepare("DELETE FROM acme_nonces WHERE nonce = ? AND expires_at >= ?");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, nonce).bind(2, to_unix_seconds(now));
  auto done = stmt->step("using a nonce");
  if (!done) return tl::unexpected(done.error());
  return sqlite3_changes(db_.get()) == 1;
}

Status SqliteStore::in_transaction(std::string_view what, const std::function<Status()>& body) {
  int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db_.get(), rc, what));
  Status done = body();
  if (done) {
    rc = sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return ok();
    done = tl::unexpected(sqlite_error(db_.get(), rc, what));
  }
  // Best effort: the error reported is the cause, and SQLite may have
  // rolled back already.
  if (sqlite3_get_autocommit(db_.get()) == 0) (void)sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return done;
}

namespace {

std::optional<std::int64_t> optional_seconds(const std::optional<common::TimePoint>& t) {
  if (!t) return std::nullopt;
  return to_unix_seconds(*t);
}

Result<AcmeObject> read_acme_object(sqlite3_stmt* s) {
  auto kind = parse_acme_kind(column_text(s, 0));
  if (!kind) return tl::unexpected(kind.error());
  AcmeObject o;
  o.kind = *kind;
  o.id = column_text(s, 1);
  o.provisioner = column_text(s, 2);
  o.owner = column_text(s, 3);
  o.parent = column_text(s, 4);
  o.lookup = column_text(s, 5);  // NULL reads as ""
  o.status = column_text(s, 6);
  o.document = column_text(s, 7);
  o.version = sqlite3_column_int64(s, 8);
  o.created_at = from_unix_seconds(sqlite3_column_int64(s, 9));
  if (sqlite3_column_type(s, 10) != SQLITE_NULL) o.expires_at = from_unix_seconds(sqlite3_column_int64(s, 10));
  return o;
}

}  // namespace

Status SqliteStore::insert_acme_objects(const std::vector<AcmeObject>& objects) {
  if (auto checked = check_acme_objects(objects); !checked) return checked;
  if (objects.empty()) return ok();
  std::lock_guard lock(mu_);
  return in_transaction("recording acme objects", [&]() -> Status {
    for (const AcmeObject& o : objects) {
      auto stmt = prepare(
          "INSERT INTO acme_objects (kind, id, provisioner, owner, parent, lookup, status, document, version, "
          "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)");
      if (!stmt) return tl::unexpected(stmt.error());
      // A lookup of "" is NULL: acme_objects_lookup_key skips NULLs, so
      // objects without one never clash.
      stmt->bind(1, acme_kind_name(o.kind)).bind(2, o.id).bind(3, o.provisioner).bind(4, o.owner);
      stmt->bind(5, o.parent).bind_or_null(6, o.lookup).bind(7, o.status).bind(8, o.document);
      stmt->bind(9, to_unix_seconds(o.created_at)).bind_or_null(10, optional_seconds(o.expires_at));
      auto done = stmt->step("recording " + describe_acme_object(o.kind, o.id));
      if (!done) return tl::unexpected(done.error());
    }
    return ok();
  });
}

Result<std::optional<AcmeObject>> SqliteStore::find_one_acme_object(const char* sql, AcmeKind kind,
                                                                    std::string_view key) {
  std::lock_guard lock(mu_);
  auto stmt = prepare(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, acme_kind_name(kind)).bind(2, key);
  auto row = stmt->step("finding " + describe_acme_object(kind, key));
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<AcmeObject>();
  auto object = read_acme_object(stmt->get());
  if (!object) return tl::unexpected(object.error());
  return std::optional<AcmeObject>(std::move(*object));
}

Result<std::optional<AcmeObject>> SqliteStore::find_acme_object(AcmeKind kind, std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kAcmeObjectColumns + " FROM acme_objects WHERE kind = ? AND id = ?";
  return find_one_acme_object(sql.c_str(), kind, id);
}

Result<std::optional<AcmeObject>> SqliteStore::find_acme_object_by_lookup(AcmeKind kind, std::string_view lookup) {
  static const std::string sql =
      std::string("SELECT ") + kAcmeObjectColumns + " FROM acme_objects WHERE kind = ? AND lookup = ?";
  return find_one_acme_object(sql.c_str(), kind, lookup);
}

Result<std::vector<AcmeObject>> SqliteStore::list_acme_objects(AcmeKind kind, std::string_view key,
                                                               bool by_parent) {
  static const std::string by_owner_sql = std::string("SELECT ") + kAcmeObjectColumns +
                                          " FROM acme_objects WHERE kind = ? AND owner = ? ORDER BY created_at, id";
  static const std::string by_parent_sql = std::string("SELECT ") + kAcmeObjectColumns +
                                           " FROM acme_objects WHERE kind = ? AND parent = ? ORDER BY created_at, id";
  std::lock_guard lock(mu_);
  auto stmt = prepare(by_parent ? by_parent_sql.c_str() : by_owner_sql.c_str());
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, acme_kind_name(kind)).bind(2, key);
  std::vector<AcmeObject> out;
  while (true) {
    auto row = stmt->step("listing acme objects");
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    auto object = read_acme_object(stmt->get());
    if (!object) return tl::unexpected(object.error());
    out.push_back(std::move(*object));
  }
  return out;
}

Result<std::int64_t> SqliteStore::update_acme_object(const AcmeObject& o) {
  const std::string what = "updating " + describe_acme_object(o.kind, o.id);
  std::lock_guard lock(mu_);
  {
    // One statement compares and swaps: atomic against other connections.
    auto stmt = prepare(
        "UPDATE acme_objects SET status = ?, lookup = ?, document = ?, expires_at = ?, version = version + 1 "
        "WHERE kind = ? AND id = ? AND version = ? RETURNING version");
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->bind(1, o.status).bind_or_null(2, o.lookup).bind(3, o.document);
    stmt->bind_or_null(4, optional_seconds(o.expires_at));
    stmt->bind(5, acme_kind_name(o.kind)).bind(6, o.id).bind(7, o.version);
    auto row = stmt->step(what);
    if (!row) return tl::unexpected(row.error());
    if (*row) {
      std::int64_t version = sqlite3_column_int64(stmt->get(), 0);
      auto done = stmt->step(what);
      if (!done) return tl::unexpected(done.error());
      return version;
    }
  }
  // Nothing changed. ACME objects are never deleted, so a row that exists
  // now existed then: its version moved on.
  auto stmt = prepare("SELECT version FROM acme_objects WHERE kind = ? AND id = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, acme_kind_name(o.kind)).bind(2, o.id);
  auto row = stmt->step(what);
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(Errc::not_found, describe_acme_object(o.kind, o.id) + " not found");
  return fail(Errc::failed_precondition, describe_acme_object(o.kind, o.id) + " is at version " +
                                             std::to_string(sqlite3_column_int64(stmt->get(), 0)) + ", not " +
                                             std::to_string(o.version));
}

Status SqliteStore::revoke(const RevocationRecord& r) {
  if (auto checked = check_revocation(r); !checked) return checked;
  std::lock_guard lock(mu_);
  auto stmt = prepare(
      "INSERT INTO revocations (serial, reason_code, reason, revoked_at, actor, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, r.serial).bind(2, std::int64_t{r.reason_code}).bind(3, r.reason);
  stmt->bind(4, to_unix_seconds(r.revoked_at)).bind(5, r.actor);
  if (r.expires_at) {
    stmt->bind(6, to_unix_seconds(*r.expires_at));
  } else {
    stmt->bind_null(6);
  }
  auto done = stmt->step("revoking " + r.serial);
  if (!done) return tl::unexpected(done.error());
  return ok();
}

namespace {

RevocationRecord read_revocation(sqlite3_stmt* s) {
  RevocationRecord r;
  r.serial = column_text(s, 0);
  r.reason_code = sqlite3_column_int(s, 1);
  r.reason = column_text(s, 2);
  r.revoked_at = from_unix_seconds(sqlite3_column_int64(s, 3));
  r.actor = column_text(s, 4);
  if (sqlite3_column_type(s, 5) != SQLITE_NULL) r.expires_at = from_unix_seconds(sqlite3_column_int64(s, 5));
  return r;
}

}  // namespace

Result<std::optional<RevocationRecord>> SqliteStore::find_revocation(std::string_view serial) {
  std::lock_guard lock(mu_);
  auto stmt = prepare(
      "SELECT serial, reason_code, reason, revoked_at, actor, expires_at FROM revocations WHERE serial = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, serial);
  auto row = stmt->step("finding revocation");
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<RevocationRecord>();
  return std::optional<RevocationRecord>(read_revocation(stmt->get()));
}

Result<std::vector<RevocationRecord>> SqliteStore::list_revocations(common::TimePoint expired_before) {
  std::lock_guard lock(mu_);
  auto stmt = prepare(
      "SELECT serial, reason_code, reason, revoked_at, actor, expires_at FROM revocations "
      "WHERE expires_at IS NULL OR expires_at >= ? ORDER BY revoked_at, serial");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, to_unix_seconds(expired_before));
  std::vector<RevocationRecord> out;
  while (true) {
    auto row = stmt->step("listing revocations");
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    out.push_back(read_revocation(stmt->get()));
  }
  return out;
}

Result<std::int64_t> SqliteStore::revocation_count() {
  std::lock_guard lock(mu_);
  auto stmt = prepare("SELECT count(*) FROM revocations");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step("counting revocations");
  if (!row) return tl::unexpected(row.error());
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

Status SqliteStore::publish_crl(const CrlRecord& crl) {
  std::lock_guard lock(mu_);
  // The WHERE makes the check and the write one statement: a replica that
  // signed an older number cannot overwrite a newer CRL.
  auto stmt = prepare(
      "INSERT INTO crl (id, number, this_update, next_update, der) VALUES (1, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET number = excluded.number, this_update = excluded.this_update, "
      "next_update = excluded.next_update, der = excluded.der WHERE crl.number < excluded.number");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, crl.number).bind(2, to_unix_seconds(crl.this_update)).bind(3, to_unix_seconds(crl.next_update));
  stmt->bind_blob(4, crl.der);
  auto done = stmt->step("publishing crl");
  if (!done) return tl::unexpected(done.error());
  if (sqlite3_changes(db_.get()) == 0) {
    return fail(Errc::failed_precondition,
                "crl number " + std::to_string(crl.number) + " is not greater than the published one");
  }
  return ok();
}

Result<std::optional<CrlRecord>> SqliteStore::latest_crl() {
  std::lock_guard lock(mu_);
  auto stmt = prepare("SELECT number, this_update, next_update, der FROM crl WHERE id = 1");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step("reading crl");
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<CrlRecord>();
  sqlite3_stmt* s = stmt->get();
  CrlRecord crl;
  crl.number = sqlite3_column_int64(s, 0);
  crl.this_update = from_unix_seconds(sqlite3_column_int64(s, 1));
  crl.next_update = from_unix_seconds(sqlite3_column_int64(s, 2));
  const auto* der = static_cast<const char*>(sqlite3_column_blob(s, 3));
  crl.der.assign(der == nullptr ? "" : der, static_cast<std::size_t>(sqlite3_column_bytes(s, 3)));
  return std::optional<CrlRecord>(std::move(crl));
}

Result<std::int64_t> SqliteStore::next_crl_number() {
  std::lock_guard lock(mu_);
  // One statement: atomic against other connections to the same file.
  auto stmt = prepare("UPDATE crl_number SET last = last + 1 WHERE id = 1 RETURNING last");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step("taking the next crl number");
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(Errc::internal, "crl_number has no row");
  std::int64_t number = sqlite3_column_int64(stmt->get(), 0);
  auto done = stmt->step("taking the next crl number");
  if (!done) return tl::unexpected(done.error());
  return number;
}

Status SqliteStore::ping() {
  std::lock_guard lock(mu_);
  auto stmt = prepare("SELECT 1");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step("ping");
  if (!row) return tl::unexpected(row.error());
  return ok();
}

std::string SqliteStore::describe() const { return "sqlite " + path_.string(); }

}  // namespace keystep::storage
