#pragma once
// The ACME resources Keystep keeps (RFC 8555 §7.1.2-7.1.6): accounts,
// orders, authorizations with their challenges. Each converts to and from
// the Store's AcmeObject (columns + a JSON document) and to the JSON a
// client sees. Status values are the RFC's; an order's "ready" and an
// order's or authorization's "invalid" on expiry are derived when read
// (order_status), never stored, so no background job has to flip them.
// Pure functions.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/acme/identifier.h"
#include "issuer/acme/links.h"
#include "issuer/acme/problem.h"
#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/storage/store.h"

namespace keystep::acme {

struct Account {
  std::string id;
  std::string provisioner;
  std::string status = "valid";  // valid, deactivated, revoked
  nlohmann::json jwk;            // the public key, as the client sent it
  std::string thumbprint;        // RFC 7638 of jwk
  std::vector<std::string> contact;
  bool terms_of_service_agreed = false;
  std::string eab_key_id;        // the External Account Binding key it was bound with, or ""
  common::TimePoint created_at;
  std::int64_t version = 0;

  [[nodiscard]] storage::AcmeObject to_object() const;
  [[nodiscard]] static Result<Account> from_object(const storage::AcmeObject& object);
  [[nodiscard]] nlohmann::json to_wire(const Links& links) const;
};

// account_lookup is the Store lookup of an account key: one account per key
// and provisioner.
[[nodiscard]] std::string account_lookup(std::string_view provisioner, std::string_view thumbprint);

struct Challenge {
  std::string id;
  std::string type;                // http-01, dns-01, tls-alpn-01
  std::string token;
  std::string status = "pending";  // pending, processing, valid, invalid
  std::optional<common::TimePoint> validated;
  std::optional<Problem> error;    // the last attempt's failure
  int attempts = 0;                // attempts made so far
  std::optional<common::TimePoint> next_attempt;  // while processing: when the next attempt is due

  [[nodiscard]] nlohmann::json to_wire(const Links& links, std::string_view authz_id) const;
};

struct Authorization {
  std::string id;
  std::string provisioner;
  std::string account_id;
  std::string order_id;
  Identifier identifier;           // without "*."; wildcard says whether the order asked for "*."
  bool wildcard = false;
  std::string status = "pending";  // pending, valid, invalid, deactivated, revoked
  common::TimePoint expires;
  std::vector<Challenge> challenges;
  common::TimePoint created_at;
  std::int64_t version = 0;

  // current_status is status, or "expired" for a pending or valid
  // authorization past its expiry.
  [[nodiscard]] std::string current_status(common::TimePoint now) const;
  [[nodiscard]] Challenge* find_challenge(std::string_view id);
  [[nodiscard]] storage::AcmeObject to_object() const;
  [[nodiscard]] static Result<Authorization> from_object(const storage::AcmeObject& object);
  [[nodiscard]] nlohmann::json to_wire(const Links& links, common::TimePoint now) const;
};

struct Order {
  std::string id;
  std::string provisioner;
  std::string account_id;
  std::string status = "pending";  // stored: pending, processing, valid, invalid
  common::TimePoint expires;
  std::vector<Identifier> identifiers;
  std::string not_before;          // as requested (RFC 3339), or ""
  std::string not_after;
  std::vector<std::string> authorizations;  // ids
  std::optional<Problem> error;
  std::string certificate_serial;  // decimal, once valid
  std::string certificate_chain;   // PEM: leaf then intermediates, once valid
  std::string replaces;            // RFC 9773 certID of the certificate this order renews, or ""
  common::TimePoint created_at;
  std::int64_t version = 0;

  [[nodiscard]] storage::AcmeObject to_object() const;
  [[nodiscard]] static Result<Order> from_object(const storage::AcmeObject& object);
  // to_wire shows the order with its derived status.
  [[nodiscard]] nlohmann::json to_wire(const Links& links, std::string_view status) const;
};

// order_status derives an order's status from its stored status and its
// authorizations (RFC 8555 §7.1.6): a pending order whose authorizations
// are all valid is "ready"; one with an invalid, deactivated, expired or
// revoked authorization, or past its expiry, is "invalid".
[[nodiscard]] std::string order_status(const Order& order, const std::vector<Authorization>& authorizations,
                                       common::TimePoint now);

// new_id makes a random object id or challenge token: 128 bits, base64url.
[[nodiscard]] std::string new_id();

}  // namespace keystep::acme
