#include "issuer/acme/objects.h"

#include <catch2/catch.hpp>

#include "issuer/acme/acme_config.h"
#include "issuer/acme/renewal_info.h"

namespace keystep::acme {
namespace {

using namespace std::chrono_literals;
const common::TimePoint kT0 = common::TimePoint(std::chrono::seconds(1'800'000'000));

Authorization authz(const std::string& status, common::TimePoint expires = kT0 + 1h) {
  Authorization a;
  a.id = new_id();
  a.status = status;
  a.expires = expires;
  a.created_at = kT0;
  return a;
}

TEST_CASE("an order's status is derived from its authorizations", "[acme]") {
  Order o;
  o.status = "pending";
  o.expires = kT0 + 1h;
  CHECK(order_status(o, {authz("valid"), authz("pending")}, kT0) == "pending");
  CHECK(order_status(o, {authz("valid"), authz("valid")}, kT0) == "ready");
  CHECK(order_status(o, {authz("valid"), authz("invalid")}, kT0) == "invalid");
  CHECK(order_status(o, {authz("deactivated")}, kT0) == "invalid");
  CHECK(order_status(o, {authz("valid", kT0 + 1min)}, kT0 + 2min) == "invalid");  // authorization expired
  CHECK(order_status(o, {authz("valid")}, kT0 + 2h) == "invalid");                // order expired
  o.status = "valid";
  CHECK(order_status(o, {authz("valid")}, kT0 + 2h) == "valid");
  o.status = "processing";
  CHECK(order_status(o, {authz("valid")}, kT0) == "processing");
}

TEST_CASE("ACME objects survive the Store's columns and document", "[acme]") {
  Authorization a = authz("pending");
  a.provisioner = "acme";
  a.account_id = "acct";
  a.order_id = "ord";
  a.identifier = {"dns", "a.example"};
  a.wildcard = true;
  Challenge c;
  c.id = "ch1";
  c.type = kDns01;
  c.token = new_id();
  c.status = "processing";
  c.attempts = 2;
  c.next_attempt = kT0 + 4s;
  c.error = incorrect_response("TXT record mismatch");
  a.challenges.push_back(c);
  auto back = Authorization::from_object(a.to_object());
  REQUIRE(back);
  CHECK(back->identifier == a.identifier);
  CHECK(back->wildcard);
  CHECK(back->order_id == "ord");
  CHECK(back->account_id == "acct");
  REQUIRE(back->challenges.size() == 1);
  CHECK(back->challenges[0].attempts == 2);
  CHECK(back->challenges[0].next_attempt == kT0 + 4s);
  REQUIRE(back->challenges[0].error);
  CHECK(back->challenges[0].error->type == "incorrectResponse");

  const Links links("https://ca.internal/acme/acme");
  auto wire = back->to_wire(links, kT0);
  CHECK(wire["status"] == "pending");
  CHECK(wire["wildcard"] == true);
  CHECK(wire["challenges"][0]["url"] == "https://ca.internal/acme/acme/challenge/" + a.id + "/ch1");
  CHECK(wire["challenges"][0]["error"]["type"] == "urn:ietf:params:acme:error:incorrectResponse");
  CHECK(back->to_wire(links, kT0 + 2h)["status"] == "expired");

  Order o;
  o.id = "ord";
  o.provisioner = "acme";
  o.account_id = "acct";
  o.expires = kT0 + 1h;
  o.created_at = kT0;
  o.identifiers = {{"dns", "*.a.example"}};
  o.authorizations = {a.id};
  o.not_after = "2027-01-15T00:00:00Z";
  o.status = "valid";
  o.certificate_serial = "123";
  o.certificate_chain = "PEM";
  auto order = Order::from_object(o.to_object());
  REQUIRE(order);
  CHECK(order->identifiers == o.identifiers);
  CHECK(order->certificate_chain == "PEM");
  auto ow = order->to_wire(links, "valid");
  CHECK(ow["certificate"] == "https://ca.internal/acme/acme/certificate/ord");
  CHECK(ow["finalize"] == "https://ca.internal/acme/acme/order/ord/finalize");
  CHECK(ow["notAfter"] == "2027-01-15T00:00:00Z");
  CHECK_FALSE(order->to_wire(links, "ready").contains("certificate"));
}

TEST_CASE("account URLs map back to account ids only for their provisioner", "[acme]") {
  const Links links("https://ca.internal:9000/acme/acme");
  CHECK(links.account_id("https://ca.internal:9000/acme/acme/account/abc") == "abc");
  CHECK(links.account_id("https://ca.internal:9000/acme/other/account/abc").empty());
  CHECK(links.account_id("https://ca.internal:9000/acme/acme/account/abc/orders").empty());
  CHECK(links.account_id("https://ca.internal:9000/acme/acme/account/").empty());
}

TEST_CASE("renewal windows and certificate ids", "[acme]") {
  auto w = suggested_window(kT0, kT0 + 90h, false, kT0);
  CHECK(w.start == kT0 + 60h);
  CHECK(w.end == kT0 + 75h);
  auto revoked = suggested_window(kT0, kT0 + 90h, true, kT0 + 1h);
  CHECK(revoked.end <= kT0 + 1h);
  auto id = parse_cert_id("aGVsbG8.AQ");
  REQUIRE(id);
  CHECK(id->key_identifier == "hello");
  CHECK(id->serial_decimal == "1");
  CHECK_FALSE(parse_cert_id("nodot"));
  CHECK_FALSE(parse_cert_id("aGVsbG8.gA"));  // a negative serial
  CHECK_FALSE(parse_cert_id(".AQ"));
}

}  // namespace
}  // namespace keystep::acme
