#include "issuer/storage/migrations.h"

namespace keystep::storage {
namespace {

// Times are integer unix seconds in both dialects, so both backends compare
// and round-trip them identically.
constexpr Migration kSqlite[] = {
    {1, "initial schema", R"sql(
CREATE TABLE certificates (
  serial             TEXT PRIMARY KEY,
  subject            TEXT NOT NULL,
  sans               TEXT NOT NULL,
  not_before         INTEGER NOT NULL,
  not_after          INTEGER NOT NULL,
  key_type           TEXT NOT NULL,
  issuer_fingerprint TEXT NOT NULL,
  provisioner        TEXT NOT NULL,
  requester          TEXT NOT NULL,
  source             TEXT NOT NULL,
  request_id         TEXT NOT NULL,
  fingerprint        TEXT NOT NULL,
  pem                TEXT NOT NULL,
  created_at         INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX certificates_request_id_key ON certificates (request_id)
  WHERE source = 'certificaterequest';
CREATE INDEX certificates_not_after ON certificates (not_after);

CREATE TABLE revocations (
  serial      TEXT PRIMARY KEY,
  reason_code INTEGER NOT NULL CHECK (reason_code BETWEEN 0 AND 10 AND reason_code <> 7),
  reason      TEXT NOT NULL,
  revoked_at  INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  expires_at  INTEGER
) STRICT;
CREATE INDEX revocations_revoked_at ON revocations (revoked_at);

CREATE TABLE used_tokens (
  provisioner TEXT NOT NULL,
  token_id    TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (provisioner, token_id)
) STRICT;
CREATE INDEX used_tokens_expires_at ON used_tokens (expires_at);

CREATE TABLE crl (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  number      INTEGER NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  der         BLOB NOT NULL
) STRICT;

CREATE TABLE crl_number (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  last INTEGER NOT NULL
) STRICT;
INSERT INTO crl_number (id, last) VALUES (1, 0);
)sql"},
    {2, "acme nonces", R"sql(
CREATE TABLE acme_nonces (
  nonce      TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX acme_nonces_expires_at ON acme_nonces (expires_at);
)sql"},
    // lookup is NULL, never '', when an object has none: the unique index
    // skips NULLs. No CHECK on kind, so a new kind needs no table rebuild.
    {3, "acme objects", R"sql(
CREATE TABLE acme_objects (
  kind        TEXT NOT NULL,
  id          TEXT NOT NULL,
  provisioner TEXT NOT NULL,
  owner       TEXT NOT NULL,
  parent      TEXT NOT NULL,
  lookup      TEXT CHECK (lookup <> ''),
  status      TEXT NOT NULL,
  document    TEXT NOT NULL,
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  PRIMARY KEY (kind, id)
) STRICT;
CREATE UNIQUE INDEX acme_objects_lookup_key ON acme_objects (kind, lookup) WHERE lookup IS NOT NULL;
CREATE INDEX acme_objects_owner ON acme_objects (kind, owner);
CREATE INDEX acme_objects_parent ON acme_objects (kind, parent);
)sql"},
};

constexpr Migration kPostgres[] = {
    {1, "initial schema", R"sql(
CREATE TABLE certificates (
  serial             TEXT PRIMARY KEY,
  subject            TEXT NOT NULL,
  sans               JSONB NOT NULL,
  not_before         BIGINT NOT NULL,
  not_after          BIGINT NOT NULL,
  key_type           TEXT NOT NULL,
  issuer_fingerprint TEXT NOT NULL,
  provisioner        TEXT NOT NULL,
  requester          TEXT NOT NULL,
  source             TEXT NOT NULL,
  request_id         TEXT NOT NULL,
  fingerprint        TEXT NOT NULL,
  pem                TEXT NOT NULL,
  created_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX certificates_request_id_key ON certificates (request_id)
  WHERE source = 'certificaterequest';
CREATE INDEX certificates_not_after ON certificates (not_after);

CREATE TABLE revocations (
  serial      TEXT PRIMARY KEY,
  reason_code INTEGER NOT NULL CHECK (reason_code BETWEEN 0 AND 10 AND reason_code <> 7),
  reason      TEXT NOT NULL,
  revoked_at  BIGINT NOT NULL,
  actor       TEXT NOT NULL,
  expires_at  BIGINT
);
CREATE INDEX revocations_revoked_at ON revocations (revoked_at);

CREATE TABLE used_tokens (
  provisioner TEXT NOT NULL,
  token_id    TEXT NOT NULL,
  expires_at  BIGINT NOT NULL,
  PRIMARY KEY (provisioner, token_id)
);
CREATE INDEX used_tokens_expires_at ON used_tokens (expires_at);

CREATE TABLE crl (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  number      BIGINT NOT NULL,
  this_update BIGINT NOT NULL,
  next_update BIGINT NOT NULL,
  der         BYTEA NOT NULL
);

CREATE SEQUENCE crl_number_seq AS BIGINT START WITH 1 NO CYCLE;
)sql"},
    {2, "acme nonces", R"sql(
CREATE TABLE acme_nonces (
  nonce      TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX acme_nonces_expires_at ON acme_nonces (expires_at);
)sql"},
    // document is TEXT, not JSONB, so it reads back byte for byte.
    {3, "acme objects", R"sql(
CREATE TABLE acme_objects (
  kind        TEXT NOT NULL,
  id          TEXT NOT NULL,
  provisioner TEXT NOT NULL,
  owner       TEXT NOT NULL,
  parent      TEXT NOT NULL,
  lookup      TEXT CHECK (lookup <> ''),
  status      TEXT NOT NULL,
  document    TEXT NOT NULL,
  version     BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT,
  PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX acme_objects_lookup_key ON acme_objects (kind, lookup) WHERE lookup IS NOT NULL;
CREATE INDEX acme_objects_owner ON acme_objects (kind, owner);
CREATE INDEX acme_objects_parent ON acme_objects (kind, parent);
)sql"},
};

}  // namespace

std::span<const Migration> sqlite_migrations() { return kSqlite; }
std::span<const Migration> postgres_migrations() { return kPostgres; }

Status check_schema_version(int database_version, std::span<const Migration> known) {
  const int latest = known.empty() ? 0 : known.back().version;
  if (database_version > latest) {
    return fail(Errc::failed_precondition, "database schema version " + std::to_string(database_version) +
                                               " is newer than this keystep (" + std::to_string(latest) +
                                               "); upgrade keystep");
  }
  return ok();
}

}  // namespace keystep::storage
