#pragma once
// Store is the CA's state: the issued-certificate ledger, revocations, used
// one-time-token ids, and CRL state. Implementations: SQLite (a single
// instance, the default) and PostgreSQL (replicas, active-active). Every
// guarantee replicas rely on is made by the database — unique serials, one
// use per token id, one certificate per request id, monotonic CRL numbers —
// through constraints and transactions, never by timing.
//
// Implementations are thread-safe. A database that cannot be reached fails
// with Errc::unavailable (the API answers 503 and issues nothing); a
// constraint violation with Errc::already_exists.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"

namespace keystep::storage {

// CertificateRecord is one issued certificate, as the audit ledger keeps it.
struct CertificateRecord {
  std::string serial;              // decimal, as step-ca and /revoke spell it
  std::string subject;             // subject common name ("" if none)
  std::vector<std::string> sans;   // "dns:a.internal", "ip:10.0.0.1", "email:…", "uri:…"
  common::TimePoint not_before;
  common::TimePoint not_after;
  std::string key_type;            // "EC P-256", "RSA 2048", "Ed25519"
  std::string issuer_fingerprint;  // SHA-256 (hex) of the issuing intermediate
  std::string provisioner;         // provisioner name
  std::string requester;           // who asked: token subject, Kubernetes user, ACME account
  std::string source;              // "api", "renew", "acme", "certificaterequest"
  std::string request_id;          // X-Request-Id, or the CertificateRequest UID; "" if none
  std::string fingerprint;         // SHA-256 (hex) of the certificate
  std::string pem;
  common::TimePoint created_at;
};

// RevocationRecord is one revoked serial. The certificate need not be in
// the ledger (step-ca allows revoking unknown serials).
struct RevocationRecord {
  std::string serial;               // decimal
  int reason_code = 0;              // RFC 5280 CRLReason, 0..10 except 7
  std::string reason;               // free text from the client
  common::TimePoint revoked_at;
  std::string actor;                // who revoked: provisioner/subject, "mtls:<serial>", ACME account
  std::optional<common::TimePoint> expires_at;  // the certificate's notAfter, when known
};

// CrlRecord is the latest CRL published by any replica.
struct CrlRecord {
  std::int64_t number = 0;
  common::TimePoint this_update;
  common::TimePoint next_update;
  std::string der;
};

// AcmeKind names the kinds of ACME state the Store keeps.
enum class AcmeKind {
  account,        // lookup: "<provisioner>/<account key thumbprint>", unique: one account per key
  order,          // owner: the account id
  authorization,  // owner: the account id; parent: the order id
  eab_binding,    // id: "<provisioner>/<EAB key id>"; its existence means the key is used up
};

// AcmeObject is one ACME account, order, authorization or EAB binding. The
// protocol's fields live in `document` (JSON, owned by issuer/acme); the
// columns are what the Store searches on and what makes replicas safe:
// every update names the version it read and fails if another request
// (on any replica) changed the object since (compare-and-swap).
struct AcmeObject {
  AcmeKind kind = AcmeKind::account;
  std::string id;           // unique per kind; random base64url made by the caller
  std::string provisioner;  // the ACME provisioner's name
  std::string owner;        // the account id ("" for an account or an EAB binding)
  std::string parent;       // an authorization's order id ("" otherwise)
  std::string lookup;       // unique per kind when non-empty (an account's key); "" for none
  std::string status;       // "valid", "pending", "ready", ...
  std::string document;     // JSON text
  std::int64_t version = 0; // set by the Store: 1 on insert, +1 per update
  common::TimePoint created_at;
  std::optional<common::TimePoint> expires_at;  // orders and authorizations; none for accounts
};

class Store {
 public:
  virtual ~Store() = default;

  // insert_certificate records an issued certificate. already_exists when
  // the serial is taken, or when source is "certificaterequest" and a
  // certificate for the same request_id exists (one per request UID).
  [[nodiscard]] virtual Status insert_certificate(const CertificateRecord& record) = 0;
  [[nodiscard]] virtual Result<std::optional<CertificateRecord>> find_certificate(std::string_view serial) = 0;
  // find_certificate_by_request returns the certificate recorded for a
  // request id with source "certificaterequest", if any.
  [[nodiscard]] virtual Result<std::optional<CertificateRecord>> find_certificate_by_request(
      std::string_view request_id) = 0;

  // use_token records a one-time token id of a provisioner until
  // expires_at; already_exists if it was recorded before (a replay).
  [[nodiscard]] virtual Status use_token(std::string_view provisioner, std::string_view token_id,
                                         common::TimePoint expires_at) = 0;
  // collect_used_tokens deletes token ids and ACME nonces that expired
  // before `now`; returns how many.
  [[nodiscard]] virtual Result<std::size_t> collect_used_tokens(common::TimePoint now) = 0;

  // add_nonce records an ACME Replay-Nonce handed out, valid until
  // expires_at; already_exists if that nonce was issued before.
  [[nodiscard]] virtual Status add_nonce(std::string_view nonce, common::TimePoint expires_at) = 0;
  // consume_nonce uses a nonce up: true when it was issued (by any replica)
  // and not used or expired at `now`; it can never succeed twice.
  [[nodiscard]] virtual Result<bool> consume_nonce(std::string_view nonce, common::TimePoint now) = 0;

  // insert_acme_objects inserts the objects in one transaction (an order
  // with its authorizations), each with version 1; already_exists when an
  // id or a lookup of the same kind is taken, and then nothing is inserted.
  [[nodiscard]] virtual Status insert_acme_objects(const std::vector<AcmeObject>& objects) = 0;
  [[nodiscard]] virtual Result<std::optional<AcmeObject>> find_acme_object(AcmeKind kind, std::string_view id) = 0;
  // find_acme_object_by_lookup finds the object of that kind whose lookup is `lookup`.
  [[nodiscard]] virtual Result<std::optional<AcmeObject>> find_acme_object_by_lookup(AcmeKind kind,
                                                                                     std::string_view lookup) = 0;
  // list_acme_objects returns the objects of a kind whose owner (or, with
  // by_parent, whose parent) is `key`, oldest first (then by id).
  [[nodiscard]] virtual Result<std::vector<AcmeObject>> list_acme_objects(AcmeKind kind, std::string_view key,
                                                                          bool by_parent = false) = 0;
  // update_acme_object replaces status, lookup, document and expires_at of
  // the object (kind, id) if its stored version is still object.version,
  // and returns the new version (object.version + 1). failed_precondition
  // when another update came first (read again and retry, or give up);
  // not_found when there is no such object; already_exists when the new
  // lookup is another object's.
  [[nodiscard]] virtual Result<std::int64_t> update_acme_object(const AcmeObject& object) = 0;
  // collect_acme_objects deletes the orders and authorizations that expired
  // before `expired_before` (the caller keeps a grace period so clients can
  // still read a finished order); accounts and EAB bindings stay. The
  // ledger keeps every certificate. Returns how many objects went.
  [[nodiscard]] virtual Result<std::size_t> collect_acme_objects(common::TimePoint expired_before) = 0;

  // revoke records a revocation; already_exists if the serial is revoked.
  [[nodiscard]] virtual Status revoke(const RevocationRecord& record) = 0;
  [[nodiscard]] virtual Result<std::optional<RevocationRecord>> find_revocation(std::string_view serial) = 0;
  // list_revocations returns every revocation, oldest first, except those
  // whose certificate expired before `expired_before`.
  [[nodiscard]] virtual Result<std::vector<RevocationRecord>> list_revocations(common::TimePoint expired_before) = 0;
  // revocation_count is a cheap change detector for CRL regeneration.
  [[nodiscard]] virtual Result<std::int64_t> revocation_count() = 0;

  // publish_crl stores a newly signed CRL if its number is greater than the
  // stored one (returns failed_precondition otherwise: another replica won).
  [[nodiscard]] virtual Status publish_crl(const CrlRecord& crl) = 0;
  [[nodiscard]] virtual Result<std::optional<CrlRecord>> latest_crl() = 0;
  // next_crl_number atomically returns a number greater than every number
  // it returned before, to any replica.
  [[nodiscard]] virtual Result<std::int64_t> next_crl_number() = 0;

  // ping checks that the database answers (for /health).
  [[nodiscard]] virtual Status ping() = 0;
  // describe names the backend for logs: "sqlite /var/lib/keystep/keystep.db",
  // "postgres host=db dbname=keystep" (never a password).
  [[nodiscard]] virtual std::string describe() const = 0;
};

}  // namespace keystep::storage
