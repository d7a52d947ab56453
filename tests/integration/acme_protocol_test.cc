// The ACME protocol (RFC 8555, RFC 9773) of a real `keystep serve`, driven
// by tests/integration/acme_client.h: every refusal has its RFC error type,
// status, a problem document and a fresh Replay-Nonce, and leaves nothing
// issued; issuance works for each account-key algorithm, and the resources
// around it (nonces, accounts, key rollover, orders, renewal information)
// answer as the RFCs say.

#include <openssl/rand.h>

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/acme/eab.h"
#include "tests/integration/acme_client.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

acme::EabKey make_eab_key(const std::string& id) {
  std::string raw(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1) {
    throw HarnessError("RAND_bytes failed");
  }
  return {id, raw};
}

// AcmeCa is a PKI from `keystep init` whose keystep.yaml gets a name policy
// (DNS names *.keystep.test and localhost, IPs in 127.0.0.0/8) and two ACME provisioners:
// "acme" (http-01 only, validated on the responder's port) and "eab"
// (External Account Binding keys team-a and team-b), and its server.
struct AcmeCa {
  AcmeCa()
      : ca({.password = false}, [this](const Pki& pki) {
          edit_yaml(pki.config(), [this](YAML::Node& config) {
            config["policy"]["allow"]["dns"] = YAML::Load("[\"*.keystep.test\", localhost]");
            config["policy"]["allow"]["ip"] = YAML::Load("[127.0.0.0/8]");
            const std::string validation = "{http01Port: " + std::to_string(responder.port()) +
                                           ", attempts: 2, backoff: 200ms, timeout: 5s}";
            config["provisioners"].push_back(
                YAML::Load("{name: acme, type: ACME, challenges: [http-01], validation: " + validation + "}"));
            auto eab = YAML::Load("{name: eab, type: ACME, challenges: [http-01], validation: " + validation + "}");
            for (const auto* key : {&team_a, &team_b}) {
              YAML::Node item;
              item["keyID"] = key->key_id;
              item["hmacKey"] = common::base64url_encode(key->hmac_key);
              eab["externalAccountBinding"]["keys"].push_back(item);
            }
            config["provisioners"].push_back(eab);
          });
        }) {}

  [[nodiscard]] std::string directory(const std::string& provisioner = "acme") const {
    return ca.server.url() + "/acme/" + provisioner + "/directory";
  }
  [[nodiscard]] AcmeClient client(AccountKeyType type = AccountKeyType::es256,
                                  const std::string& provisioner = "acme") const {
    return AcmeClient(directory(provisioner), read_text(ca.pki.root_cert()), make_account_key(type));
  }
  // account is a client with a new account.
  [[nodiscard]] AcmeClient account(AccountKeyType type = AccountKeyType::es256) const {
    AcmeClient c = client(type);
    require_status(c.new_account({.contact = {"mailto:ops@keystep.test"}}), 201, "newAccount");
    return c;
  }

  Http01Responder responder;
  acme::EabKey team_a = make_eab_key("team-a");
  acme::EabKey team_b = make_eab_key("team-b");
  RunningCa ca;
};

using ReadyOrder = AcmeClient::ReadyOrder;

ReadyOrder ready_order(AcmeClient& client, Http01Responder& responder) {
  return client.ready_order({{"localhost"}}, responder);
}

common::Bytes csr_for(const std::vector<std::string>& dns) {
  auto key = testing::make_key();
  return csr_der(key.get(), {.dns = dns});
}

// check_problem: the reply is the problem type with status, as a problem
// document, with a fresh nonce.
void check_problem(const AcmeReply& reply, int status, const std::string& type) {
  INFO(reply.describe());
  CHECK(reply.status == status);
  CHECK(reply.problem_type() == kAcmeErrorPrefix + type);
  CHECK_THAT(reply.header("Content-Type"), StartsWith("application/problem+json"));
  CHECK_FALSE(reply.header("Replay-Nonce").empty());
}

// order_status reads an order (POST-as-GET) and requires that it has no certificate.
std::string unissued_order_status(AcmeClient& client, const std::string& order_url) {
  auto reply = client.post_as_get(order_url);
  require_status(reply, 200, "POST-as-GET order");
  const auto order = reply.json();
  INFO(reply.describe());
  CHECK_FALSE(order.contains("certificate"));
  return order.value("status", "");
}

// check_not_issued: the ready order stays ready, with no certificate, and
// the server logged no issuance.
void check_not_issued(AcmeCa& ca, AcmeClient& client, const ReadyOrder& order) {
  CHECK(unissued_order_status(client, order.url) == "ready");
  CHECK(ca.ca.server.count("acme order valid") == 0);
}

nlohmann::json finalize_payload(const std::vector<std::string>& dns) {
  return {{"csr", common::base64url_encode(csr_for(dns))}};
}

// --- refusals ---

TEST_CASE("ACME made-up nonce is badNonce", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}),
                           {.nonce = "bm90LWEtbm9uY2UtZnJvbS10aGlzLXNlcnZlcg"});
  check_problem(reply, 400, "badNonce");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME missing nonce is badNonce", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  check_problem(client.post(order.finalize, finalize_payload({"localhost"}), {.omit_nonce = true}), 400, "badNonce");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME reused nonce is badNonce", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  require_status(client.post_as_get(order.url), 200, "POST-as-GET order");
  const std::string used = client.last_nonce();
  REQUIRE_FALSE(used.empty());
  check_problem(client.post(order.finalize, finalize_payload({"localhost"}), {.nonce = used}), 400, "badNonce");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME JWS url other than the request URL is unauthorized", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}), {.header_url = order.url});
  check_problem(reply, 403, "unauthorized");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME kid signed by another key is malformed", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  const jose::Jwk other = make_account_key();
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}), {.sign_with = &other});
  check_problem(reply, 400, "malformed");
  CHECK_THAT(reply.json().value("detail", ""), Contains("signature"));
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME jwk where kid is expected is malformed", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}), {.key_ref = PostOptions::KeyRef::jwk});
  check_problem(reply, 400, "malformed");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME kid of an unknown account is accountDoesNotExist", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  const std::string base = client.account_url().substr(0, client.account_url().rfind('/') + 1);
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}), {.kid = base + "bm8tc3VjaC1hY2NvdW50"});
  check_problem(reply, 400, "accountDoesNotExist");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME wrong Content-Type is 415", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  auto reply = client.post(order.finalize, finalize_payload({"localhost"}), {.content_type = "application/json"});
  check_problem(reply, 415, "malformed");
  check_not_issued(ca, client, order);
}

TEST_CASE("ACME finalize before the order is ready is orderNotReady", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto created = client.new_order({{"localhost"}});
  require_status(created, 201, "newOrder");
  CHECK(created.json().value("status", "") == "pending");
  auto reply = client.finalize(created.json()["finalize"].get<std::string>(), csr_for({"localhost"}));
  check_problem(reply, 403, "orderNotReady");
  CHECK(unissued_order_status(client, created.location()) == "pending");
  CHECK(ca.ca.server.count("acme order valid") == 0);
}

TEST_CASE("ACME CSR with an extra name is badCSR", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  auto reply = client.finalize(order.finalize, csr_for({"localhost", "acme-b.keystep.test"}));
  check_problem(reply, 400, "badCSR");
  check_not_issued(ca, client, order);
}

// check_no_orders: the account has no orders at all.
void check_no_orders(AcmeClient& client) {
  auto list = client.orders();
  require_status(list, 200, "orders");
  INFO(list.describe());
  CHECK(list.json()["orders"].empty());
}

TEST_CASE("ACME wildcard without dns-01 is rejectedIdentifier", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto reply = client.new_order({{"*.keystep.test"}});
  check_problem(reply, 400, "rejectedIdentifier");
  INFO(reply.describe());
  CHECK(reply.location().empty());
  check_no_orders(client);
}

TEST_CASE("ACME name outside the policy is rejectedIdentifier", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto reply = client.new_order({{"localhost"}, {"evil.example.com"}});
  check_problem(reply, 400, "rejectedIdentifier");
  INFO(reply.describe());
  const auto problem = reply.json();
  REQUIRE(problem.contains("subproblems"));
  REQUIRE(problem["subproblems"].size() == 1);
  const auto& sub = problem["subproblems"][0];
  CHECK(sub.value("type", "") == std::string(kAcmeErrorPrefix) + "rejectedIdentifier");
  CHECK(sub["identifier"] == nlohmann::json({{"type", "dns"}, {"value", "evil.example.com"}}));
  check_no_orders(client);
}

TEST_CASE("ACME newAccount onlyReturnExisting for an unknown key", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.client();
  auto reply = client.new_account({.only_return_existing = true});
  check_problem(reply, 400, "accountDoesNotExist");
  CHECK(client.account_url().empty());
  // The refusal made no account: a second ask is refused the same way.
  check_problem(client.new_account({.only_return_existing = true}), 400, "accountDoesNotExist");
}

// revoked: the certificate's renewal window is in the past (RFC 9773: revoked).
bool is_revoked(AcmeClient& client, const std::string& chain_pem) {
  auto info = client.renewal_info(acme_cert_id(chain_pem));
  require_status(info, 200, "renewalInfo");
  const auto window = info.json()["suggestedWindow"];
  return parse_time(window["end"].get<std::string>()) < std::chrono::system_clock::now();
}

TEST_CASE("ACME revocation reason 7 is badRevocationReason", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto issued = client.obtain_certificate({{"localhost"}}, ca.responder);
  check_problem(client.revoke(certificate_der(issued.chain_pem), 7), 400, "badRevocationReason");
  CHECK_FALSE(is_revoked(client, issued.chain_pem));
}

TEST_CASE("ACME revoking the certificate of another account is unauthorized", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto owner = ca.account();
  auto issued = owner.obtain_certificate({{"localhost"}}, ca.responder);
  auto other = ca.account();
  check_problem(other.revoke(certificate_der(issued.chain_pem), 1), 403, "unauthorized");
  CHECK_FALSE(is_revoked(owner, issued.chain_pem));
}

TEST_CASE("ACME External Account Binding", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto first = ca.client(AccountKeyType::es256, "eab");
  CHECK(first.directory()["meta"]["externalAccountRequired"] == true);

  SECTION("missing is externalAccountRequired") {
    check_problem(first.new_account(), 403, "externalAccountRequired");
    CHECK(first.account_url().empty());
    check_problem(first.new_account({.only_return_existing = true}), 400, "accountDoesNotExist");
  }
  SECTION("a correct binding makes the account, a reused one is unauthorized") {
    auto binding = acme::sign_eab(ca.team_a, first.resource("newAccount"), first.key());
    auto made = first.new_account({.external_account_binding = binding});
    INFO(made.describe());
    CHECK(made.status == 201);
    CHECK_FALSE(made.location().empty());
    // The bound account works: it can order.
    CHECK(first.new_order({{"localhost"}}).status == 201);

    auto second = ca.client(AccountKeyType::es256, "eab");
    auto again = acme::sign_eab(ca.team_a, second.resource("newAccount"), second.key());
    check_problem(second.new_account({.external_account_binding = again}), 403, "unauthorized");
    CHECK(second.account_url().empty());
    check_problem(second.new_account({.only_return_existing = true}), 400, "accountDoesNotExist");
    // A binding with the wrong HMAC key is refused as well.
    acme::EabKey forged{ca.team_b.key_id, ca.team_a.hmac_key};
    check_problem(second.new_account({.external_account_binding =
                                          acme::sign_eab(forged, second.resource("newAccount"), second.key())}),
                  403, "unauthorized");
    // team-b is still free.
    auto fresh = acme::sign_eab(ca.team_b, second.resource("newAccount"), second.key());
    CHECK(second.new_account({.external_account_binding = fresh}).status == 201);
  }
}

TEST_CASE("ACME revocation signed by the certificate key", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto issued = client.obtain_certificate({{"localhost"}}, ca.responder);
  auto cert_key = jose::Jwk::from_pkey(issued.key.get());
  REQUIRE(cert_key);
  const jose::Jwk stranger = make_account_key();
  // Anyone may try; only the certificate's own key (or its account) succeeds.
  AcmeClient outsider = ca.client();
  check_problem(outsider.revoke(certificate_der(issued.chain_pem), 1,
                                {.key_ref = PostOptions::KeyRef::jwk, .sign_with = &stranger}),
                403, "unauthorized");
  CHECK_FALSE(is_revoked(client, issued.chain_pem));
  auto revoked = outsider.revoke(certificate_der(issued.chain_pem), 1,
                                 {.key_ref = PostOptions::KeyRef::jwk, .sign_with = &*cert_key});
  INFO(revoked.describe());
  CHECK(revoked.status == 200);
  CHECK(is_revoked(client, issued.chain_pem));
}

TEST_CASE("ACME finalize of the order of another account is unauthorized", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto owner = ca.account();
  auto order = ready_order(owner, ca.responder);
  auto other = ca.account();
  check_problem(other.post(order.finalize, finalize_payload({"localhost"})), 403, "unauthorized");
  check_not_issued(ca, owner, order);
}

TEST_CASE("ACME CSR with an account key is badCSR", "[acme][acme-protocol]") {
  // RFC 8555 §11.1: "ACME clients and servers MUST verify that a CSR
  // submitted in a finalize request does not contain a public key for any
  // known account key pair."
  AcmeCa ca;
  auto client = ca.account();
  auto order = ready_order(client, ca.responder);
  SECTION("its own") {
    auto reply = client.finalize(order.finalize, csr_der(client.key().pkey(), {.dns = {"localhost"}}));
    check_problem(reply, 400, "badCSR");
  }
  SECTION("another account's") {
    auto other = ca.account(AccountKeyType::rs256);
    auto reply = client.finalize(order.finalize, csr_der(other.key().pkey(), {.dns = {"localhost"}}));
    check_problem(reply, 400, "badCSR");
  }
  check_not_issued(ca, client, order);
}

// --- issuance and the resources around it ---

void check_issuance(AccountKeyType type) {
  AcmeCa ca;
  auto client = ca.account(type);
  const std::vector<AcmeIdentifier> ids = {{"localhost"}, {"acme-a.keystep.test"}};
  auto issued = client.obtain_certificate(ids, ca.responder);
  CHECK(ca.responder.requests() >= 2);

  const fs::path bundle = ca.ca.tmp / "chain.pem";
  write_text(bundle, issued.chain_pem);
  REQUIRE(split_pem_chain(bundle, ca.ca.tmp.path(), "chain") >= 2);
  const fs::path leaf = ca.ca.tmp / "chain-0.crt";
  auto verified = verify_chain(ca.ca.pki.root_cert(), ca.ca.tmp / "chain-1.crt", leaf);
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  CHECK_THAT(verified.out, Contains(": OK"));

  const auto san = extension(x509_text(leaf), "X509v3 Subject Alternative Name");
  REQUIRE(san.present);
  std::set<std::string> names;
  std::string value = san.value;
  for (std::size_t start = 0; start < value.size();) {
    auto end = value.find(", ", start);
    if (end == std::string::npos) end = value.size();
    names.insert(value.substr(start, end - start));
    start = end + 2;
  }
  CHECK(names == std::set<std::string>{"DNS:localhost", "DNS:acme-a.keystep.test"});
  std::set<std::string> ordered;
  for (const auto& id : issued.order["identifiers"]) ordered.insert("DNS:" + id["value"].get<std::string>());
  CHECK(ordered == names);
  CHECK(ca.ca.server.count("acme order valid") == 1);
}

TEST_CASE("ACME issuance with an ES256 account key", "[acme][acme-protocol]") { check_issuance(AccountKeyType::es256); }
TEST_CASE("ACME issuance with an RS256 account key", "[acme][acme-protocol]") { check_issuance(AccountKeyType::rs256); }
TEST_CASE("ACME issuance with an EdDSA account key", "[acme][acme-protocol]") { check_issuance(AccountKeyType::eddsa); }

TEST_CASE("ACME issuance for an IP address identifier", "[acme][acme-protocol]") {
  // RFC 8738: an ip identifier, proved by http-01 at http://127.0.0.1:<port>/.
  AcmeCa ca;
  auto client = ca.account();
  auto issued = client.obtain_certificate({{"127.0.0.1", "ip"}, {"localhost"}}, ca.responder);
  const fs::path bundle = ca.ca.tmp / "ip-chain.pem";
  write_text(bundle, issued.chain_pem);
  REQUIRE(split_pem_chain(bundle, ca.ca.tmp.path(), "ip-chain") >= 2);
  const fs::path leaf = ca.ca.tmp / "ip-chain-0.crt";
  CHECK(verify_chain(ca.ca.pki.root_cert(), ca.ca.tmp / "ip-chain-1.crt", leaf).exit_code == 0);
  const auto san = extension(x509_text(leaf), "X509v3 Subject Alternative Name");
  REQUIRE(san.present);
  CHECK_THAT(san.value, Contains("IP Address:127.0.0.1"));
  CHECK_THAT(san.value, Contains("DNS:localhost"));
  // Outside the policy's addresses: refused before any challenge.
  auto outside = client.new_order({{"10.1.2.3", "ip"}});
  check_problem(outside, 400, "rejectedIdentifier");
}

TEST_CASE("ACME failed validation is retried and then invalid with the reason", "[acme][acme-protocol]") {
  AcmeCa ca;  // validation: attempts 2, backoff 200ms
  auto client = ca.account();
  auto created = client.new_order({{"localhost"}});
  require_status(created, 201, "newOrder");
  const std::string authz = created.json()["authorizations"][0].get<std::string>();
  auto read = client.post_as_get(authz);
  REQUIRE(read.status == 200);
  std::string challenge, token;
  const auto authorization = read.json();
  for (const auto& c : authorization["challenges"]) {
    if (c["type"] == "http-01") {
      challenge = c["url"].get<std::string>();
      token = c["token"].get<std::string>();
    }
  }
  REQUIRE_FALSE(challenge.empty());
  // The site answers, but with another account's key authorization.
  ca.responder.serve(token, token + ".not-this-account");
  auto answered = client.answer_challenge(challenge);
  REQUIRE(answered.status == 200);
  auto done = client.wait_status(challenge);
  INFO(done.describe());
  CHECK(done.json().value("status", "") == "invalid");
  CHECK(done.json()["error"].value("type", "") == kAcmeErrorPrefix + std::string("incorrectResponse"));
  CHECK(ca.ca.server.count("acme challenge attempt failed") == 1);  // the retry
  CHECK(client.post_as_get(authz).json().value("status", "") == "invalid");
  CHECK(client.post_as_get(created.location()).json().value("status", "") == "invalid");
  CHECK(ca.ca.server.count("acme order valid") == 0);
}

TEST_CASE("ACME Retry-After and Link up while validation is pending", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto created = client.new_order({{"localhost"}});
  require_status(created, 201, "newOrder");
  auto pending = client.post_as_get(created.location());
  INFO(pending.describe());
  REQUIRE(pending.status == 200);
  CHECK(pending.json().value("status", "") == "pending");
  CHECK_FALSE(pending.header("Retry-After").empty());

  const std::string authz = created.json()["authorizations"][0].get<std::string>();
  const std::string challenge = client.serve_http01(authz, ca.responder);
  // A slow responder keeps the first attempt running past the server's
  // short wait for it, so the answer is "processing".
  ca.responder.set_delay(std::chrono::milliseconds(1500));
  auto answered = client.answer_challenge(challenge);
  INFO(answered.describe());
  REQUIRE(answered.status == 200);
  CHECK(answered.json().value("status", "") == "processing");
  CHECK_FALSE(answered.header("Retry-After").empty());
  CHECK(answered.has_link("up", authz));
  CHECK(answered.has_link("index"));

  auto done = client.wait_status(challenge);
  CHECK(done.json().value("status", "") == "valid");
  CHECK(done.has_link("up", authz));
}

TEST_CASE("ACME deactivated account is unauthorized", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto deactivated = client.deactivate_account();
  INFO(deactivated.describe());
  REQUIRE(deactivated.status == 200);
  CHECK(deactivated.json().value("status", "") == "deactivated");
  // RFC 8555 §7.3.6: "If a server receives a POST or POST-as-GET from a
  // deactivated account, it MUST return an error response with status code
  // 401 (Unauthorized) and type urn:ietf:params:acme:error:unauthorized".
  check_problem(client.new_order({{"localhost"}}), 401, "unauthorized");
  check_problem(client.post_as_get(client.account_url()), 401, "unauthorized");
  CHECK(ca.ca.server.count("acme order created") == 0);
  // newAccount with the key does not bring it back.
  auto again = client.new_account();
  INFO(again.describe());
  CHECK(again.problem_type() == std::string(kAcmeErrorPrefix) + "unauthorized");
  CHECK_FALSE(again.header("Replay-Nonce").empty());
}

TEST_CASE("ACME keyChange rolls the account key over", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto other = ca.account();
  const jose::Jwk old_key = client.key();

  SECTION("to a fresh key") {
    const jose::Jwk new_key = make_account_key(AccountKeyType::eddsa);
    auto changed = client.key_change(new_key);
    INFO(changed.describe());
    REQUIRE(changed.status == 200);
    check_problem(client.post_as_get(client.account_url(), {.sign_with = &old_key}), 400, "malformed");
    CHECK(client.post_as_get(client.account_url()).status == 200);
    CHECK(client.new_order({{"localhost"}}).status == 201);
    // newAccount finds the account by its new key, not by the old one.
    AcmeClient by_old(ca.directory(), read_text(ca.ca.pki.root_cert()), old_key);
    check_problem(by_old.new_account({.only_return_existing = true}), 400, "accountDoesNotExist");
    AcmeClient by_new(ca.directory(), read_text(ca.ca.pki.root_cert()), new_key);
    auto found = by_new.new_account({.only_return_existing = true});
    CHECK(found.status == 200);
    CHECK(found.location() == client.account_url());
  }
  SECTION("to another account's key is a conflict") {
    auto refused = client.key_change(other.key());
    INFO(refused.describe());
    CHECK(refused.status == 409);
    CHECK(refused.location() == other.account_url());
    CHECK_THAT(refused.header("Content-Type"), StartsWith("application/problem+json"));
    CHECK_FALSE(refused.header("Replay-Nonce").empty());
    // Nothing changed: the old key still signs for the account.
    CHECK(client.key().thumbprint() == old_key.thumbprint());
    CHECK(client.post_as_get(client.account_url()).status == 200);
  }
}

TEST_CASE("ACME renewalInfo of an issued and a revoked certificate", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto issued = client.obtain_certificate({{"localhost"}}, ca.responder);
  const fs::path leaf = ca.ca.tmp / "leaf.pem";
  write_text(leaf, issued.chain_pem);
  const auto valid = validity(leaf);

  auto info = client.renewal_info(acme_cert_id(issued.chain_pem));
  INFO(info.describe());
  REQUIRE(info.status == 200);
  CHECK_FALSE(info.header("Retry-After").empty());
  const auto window = info.json()["suggestedWindow"];
  const auto start = parse_time(window["start"].get<std::string>());
  const auto end = parse_time(window["end"].get<std::string>());
  CHECK(valid.not_before <= start);
  CHECK(start < end);
  CHECK(end <= valid.not_after);
  CHECK(start > std::chrono::system_clock::now());

  auto revoked = client.revoke(certificate_der(issued.chain_pem), 4);
  INFO(revoked.describe());
  REQUIRE(revoked.status == 200);
  CHECK_FALSE(revoked.header("Replay-Nonce").empty());
  auto after = client.renewal_info(acme_cert_id(issued.chain_pem));
  INFO(after.describe());
  REQUIRE(after.status == 200);
  CHECK(parse_time(after.json()["suggestedWindow"]["end"].get<std::string>()) < std::chrono::system_clock::now());
  check_problem(client.revoke(certificate_der(issued.chain_pem), 4), 400, "alreadyRevoked");
}

TEST_CASE("ACME orders list holds the orders of the account", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.account();
  auto first = client.new_order({{"localhost"}});
  auto second = client.new_order({{"acme-a.keystep.test"}});
  require_status(first, 201, "newOrder");
  require_status(second, 201, "newOrder");
  auto other = ca.account();
  require_status(other.new_order({{"acme-b.keystep.test"}}), 201, "newOrder");

  auto list = client.orders();
  INFO(list.describe());
  REQUIRE(list.status == 200);
  std::set<std::string> urls;
  const auto body = list.json();
  for (const auto& o : body["orders"]) urls.insert(o.get<std::string>());
  CHECK(urls == std::set<std::string>{first.location(), second.location()});
}

TEST_CASE("ACME newNonce HEAD is 200 and GET is 204", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto client = ca.client();
  auto head = client.head(client.resource("newNonce"));
  CHECK(head.status == 200);
  CHECK_FALSE(head.header("Replay-Nonce").empty());
  CHECK(head.header("Cache-Control") == "no-store");
  auto get = client.get(client.resource("newNonce"));
  CHECK(get.status == 204);
  CHECK_FALSE(get.header("Replay-Nonce").empty());
  CHECK(get.header("Replay-Nonce") != head.header("Replay-Nonce"));
  CHECK(get.header("Cache-Control") == "no-store");
}

TEST_CASE("ACME directory meta externalAccountRequired", "[acme][acme-protocol]") {
  AcmeCa ca;
  auto open = ca.client();
  const auto& dir = open.directory();
  INFO(dir.dump());
  for (const char* name : {"newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo"}) {
    CHECK_THAT(dir.value(name, ""), StartsWith(ca.ca.server.url() + "/acme/acme/"));
  }
  CHECK(dir["meta"]["externalAccountRequired"] == false);
  CHECK(ca.client(AccountKeyType::es256, "eab").directory()["meta"]["externalAccountRequired"] == true);
}

}  // namespace
}  // namespace keystep::integration
