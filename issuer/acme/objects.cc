#include "issuer/acme/objects.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "issuer/common/base64.h"
#include "issuer/policy/time_format.h"
#include "issuer/storage/record_codec.h"

namespace keystep::acme {
namespace {

using nlohmann::json;

json problem_json(const std::optional<Problem>& p) { return p ? p->to_json() : json(nullptr); }

std::optional<Problem> problem_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Problem p;
  std::string type = j.value("type", "");
  const std::string ns = kErrorNamespace;
  p.type = type.rfind(ns, 0) == 0 ? type.substr(ns.size()) : type;
  p.detail = j.value("detail", "");
  p.status = j.value("status", 0);
  if (j.contains("identifier")) p.identifier = j["identifier"];
  if (j.contains("subproblems") && j["subproblems"].is_array()) {
    for (const auto& s : j["subproblems"]) {
      if (auto sub = problem_from(s)) p.subproblems.push_back(std::move(*sub));
    }
  }
  return p;
}

json time_or_null(const std::optional<common::TimePoint>& t) {
  return t ? json(storage::to_unix_seconds(*t)) : json(nullptr);
}
std::optional<common::TimePoint> optional_time(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return storage::from_unix_seconds(j[key].get<std::int64_t>());
}

// parse_document reads an object's JSON; a document the Store holds is ours,
// so a bad one is internal.
Result<json> parse_document(const storage::AcmeObject& object) {
  auto doc = json::parse(object.document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(Errc::internal, "acme object " + object.id + " has an unreadable document");
  }
  return doc;
}

storage::AcmeObject base(storage::AcmeKind kind, const std::string& id, const std::string& provisioner,
                         const std::string& status, common::TimePoint created_at, std::int64_t version) {
  storage::AcmeObject o;
  o.kind = kind;
  o.id = id;
  o.provisioner = provisioner;
  o.status = status;
  o.created_at = created_at;
  o.version = version;
  return o;
}

}  // namespace

std::string new_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for an ACME id");
  return common::base64url_encode(bytes, sizeof bytes);
}

std::string account_lookup(std::string_view provisioner, std::string_view thumbprint) {
  return std::string(provisioner) + "/" + std::string(thumbprint);
}

// --- Account ---

storage::AcmeObject Account::to_object() const {
  auto o = base(storage::AcmeKind::account, id, provisioner, status, created_at, version);
  o.lookup = account_lookup(provisioner, thumbprint);
  json doc = {{"jwk", jwk}, {"contact", contact}, {"termsOfServiceAgreed", terms_of_service_agreed}};
  if (!eab_key_id.empty()) doc["eab"] = eab_key_id;
  o.document = doc.dump();
  return o;
}

Result<Account> Account::from_object(const storage::AcmeObject& object) {
  auto doc = parse_document(object);
  if (!doc) return tl::unexpected(doc.error());
  Account a;
  a.id = object.id;
  a.provisioner = object.provisioner;
  a.status = object.status;
  a.jwk = (*doc)["jwk"];
  const auto slash = object.lookup.rfind('/');
  a.thumbprint = slash == std::string::npos ? object.lookup : object.lookup.substr(slash + 1);
  a.contact = doc->value("contact", std::vector<std::string>{});
  a.terms_of_service_agreed = doc->value("termsOfServiceAgreed", false);
  a.eab_key_id = doc->value("eab", "");
  a.created_at = object.created_at;
  a.version = object.version;
  return a;
}

json Account::to_wire(const Links& links) const {
  json out = {{"status", status}, {"contact", contact}, {"orders", links.orders(id)}};
  if (terms_of_service_agreed) out["termsOfServiceAgreed"] = true;
  if (!eab_key_id.empty()) out["externalAccountBinding"] = {{"keyID", eab_key_id}};
  return out;
}

// --- Challenge / Authorization ---

json Challenge::to_wire(const Links& links, std::string_view authz_id) const {
  json out = {{"type", type}, {"url", links.challenge(authz_id, id)}, {"status", status}, {"token", token}};
  if (validated) out["validated"] = policy::format_rfc3339(*validated);
  if (error) out["error"] = error->to_json();
  return out;
}

std::string Authorization::current_status(common::TimePoint now) const {
  if ((status == "pending" || status == "valid") && now >= expires) return "expired";
  return status;
}

Challenge* Authorization::find_challenge(std::string_view challenge_id) {
  for (auto& c : challenges) {
    if (c.id == challenge_id) return &c;
  }
  return nullptr;
}

storage::AcmeObject Authorization::to_object() const {
  auto o = base(storage::AcmeKind::authorization, id, provisioner, status, created_at, version);
  o.owner = account_id;
  o.parent = order_id;
  o.expires_at = expires;
  json list = json::array();
  for (const auto& c : challenges) {
    list.push_back({{"id", c.id},
                    {"type", c.type},
                    {"token", c.token},
                    {"status", c.status},
                    {"validated", time_or_null(c.validated)},
                    {"error", problem_json(c.error)},
                    {"attempts", c.attempts},
                    {"nextAttempt", time_or_null(c.next_attempt)}});
  }
  o.document = json{{"identifier", identifier.to_json()}, {"wildcard", wildcard}, {"challenges", list}}.dump();
  return o;
}

Result<Authorization> Authorization::from_object(const storage::AcmeObject& object) {
  auto doc = parse_document(object);
  if (!doc) return tl::unexpected(doc.error());
  Authorization a;
  a.id = object.id;
  a.provisioner = object.provisioner;
  a.account_id = object.owner;
  a.order_id = object.parent;
  a.status = object.status;
  a.expires = object.expires_at.value_or(object.created_at);
  a.created_at = object.created_at;
  a.version = object.version;
  const auto& id = (*doc)["identifier"];
  a.identifier = {id.value("type", ""), id.value("value", "")};
  a.wildcard = doc->value("wildcard", false);
  for (const auto& c : doc->value("challenges", json::array())) {
    Challenge ch;
    ch.id = c.value("id", "");
    ch.type = c.value("type", "");
    ch.token = c.value("token", "");
    ch.status = c.value("status", "pending");
    ch.validated = optional_time(c, "validated");
    if (c.contains("error")) ch.error = problem_from(c["error"]);
    ch.attempts = c.value("attempts", 0);
    ch.next_attempt = optional_time(c, "nextAttempt");
    a.challenges.push_back(std::move(ch));
  }
  return a;
}

json Authorization::to_wire(const Links& links, common::TimePoint now) const {
  json list = json::array();
  for (const auto& c : challenges) list.push_back(c.to_wire(links, id));
  json out = {{"identifier", identifier.to_json()},
              {"status", current_status(now)},
              {"expires", policy::format_rfc3339(expires)},
              {"challenges", list}};
  if (wildcard) out["wildcard"] = true;
  return out;
}

// --- Order ---

storage::AcmeObject Order::to_object() const {
  auto o = base(storage::AcmeKind::order, id, provisioner, status, created_at, version);
  o.owner = account_id;
  o.expires_at = expires;
  json ids = json::array();
  for (const auto& i : identifiers) ids.push_back(i.to_json());
  json doc = {{"identifiers", ids}, {"authorizations", authorizations}, {"error", problem_json(error)}};
  if (!not_before.empty()) doc["notBefore"] = not_before;
  if (!not_after.empty()) doc["notAfter"] = not_after;
  if (!certificate_serial.empty()) doc["certificate"] = {{"serial", certificate_serial}, {"chain", certificate_chain}};
  if (!replaces.empty()) doc["replaces"] = replaces;
  o.document = doc.dump();
  return o;
}

Result<Order> Order::from_object(const storage::AcmeObject& object) {
  auto doc = parse_document(object);
  if (!doc) return tl::unexpected(doc.error());
  Order o;
  o.id = object.id;
  o.provisioner = object.provisioner;
  o.account_id = object.owner;
  o.status = object.status;
  o.expires = object.expires_at.value_or(object.created_at);
  o.created_at = object.created_at;
  o.version = object.version;
  for (const auto& i : doc->value("identifiers", json::array())) {
    o.identifiers.push_back({i.value("type", ""), i.value("value", "")});
  }
  o.authorizations = doc->value("authorizations", std::vector<std::string>{});
  if (doc->contains("error")) o.error = problem_from((*doc)["error"]);
  o.not_before = doc->value("notBefore", "");
  o.not_after = doc->value("notAfter", "");
  if (doc->contains("certificate")) {
    o.certificate_serial = (*doc)["certificate"].value("serial", "");
    o.certificate_chain = (*doc)["certificate"].value("chain", "");
  }
  o.replaces = doc->value("replaces", "");
  return o;
}

json Order::to_wire(const Links& links, std::string_view current) const {
  json ids = json::array();
  for (const auto& i : identifiers) ids.push_back(i.to_json());
  json authz = json::array();
  for (const auto& a : authorizations) authz.push_back(links.authorization(a));
  json out = {{"status", current},
              {"expires", policy::format_rfc3339(expires)},
              {"identifiers", ids},
              {"authorizations", authz},
              {"finalize", links.finalize(id)}};
  if (!not_before.empty()) out["notBefore"] = not_before;
  if (!not_after.empty()) out["notAfter"] = not_after;
  if (error) out["error"] = error->to_json();
  if (current == "valid" && !certificate_serial.empty()) out["certificate"] = links.certificate(id);
  if (!replaces.empty()) out["replaces"] = replaces;
  return out;
}

std::string order_status(const Order& order, const std::vector<Authorization>& authorizations,
                         common::TimePoint now) {
  if (order.status != "pending") return order.status;
  if (now >= order.expires) return "invalid";
  bool all_valid = !authorizations.empty();
  for (const auto& a : authorizations) {
    const std::string s = a.current_status(now);
    if (s == "invalid" || s == "deactivated" || s == "expired" || s == "revoked") return "invalid";
    if (s != "valid") all_valid = false;
  }
  return all_valid ? "ready" : "pending";
}

}  // namespace keystep::acme
