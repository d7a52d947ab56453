// Two `keystep serve` replicas on one PostgreSQL serve one ACME CA: an
// order begun on one continues on the other at every step, nonces are
// single-use across replicas, and finalizing one order on both at once
// signs exactly one certificate.
//
// The client rewrites the URLs one replica handed out to the other's
// origin (AcmeClient::use_origin): the same resource ids, on either replica.

#include <latch>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/crypto/certificate.h"
#include "tests/integration/acme_client.h"
#include "tests/integration/acme_replicas_fixture.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/support/postgres.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

void check_problem(const AcmeReply& reply, int status, const std::string& type) {
  INFO(reply.describe());
  CHECK(reply.status == status);
  CHECK(reply.problem_type() == kAcmeErrorPrefix + type);
  CHECK_FALSE(reply.header("Replay-Nonce").empty());
}

TEST_CASE("ACME replicas continue orders begun on the other", "[acme][acme-replicas]") {
  testing::PostgresServer postgres;
  AcmeReplicas r(postgres);
  AcmeClient client = r.client();

  client.use_origin(r.a());
  require_status(client.new_account(), 201, "newAccount on A");
  client.use_origin(r.b());
  auto created = client.new_order({{"localhost"}});
  require_status(created, 201, "newOrder on B");
  const std::string order_url = created.location();
  const std::string authz = created.json()["authorizations"][0].get<std::string>();

  client.use_origin(r.a());
  const std::string challenge = client.serve_http01(authz, r.responder);
  require_status(client.answer_challenge(challenge), 200, "answer http-01 on A");

  client.use_origin(r.b());
  auto ready = client.wait_status(order_url);
  REQUIRE(ready.json().value("status", "") == "ready");

  client.use_origin(r.a());
  auto key = testing::make_key();
  auto finalized = client.finalize(ready.json()["finalize"].get<std::string>(), csr_der(key.get(), {.dns = {"localhost"}}));
  INFO(finalized.describe());
  REQUIRE(finalized.status == 200);
  REQUIRE(finalized.json().value("status", "") == "valid");
  const std::string certificate = finalized.json()["certificate"].get<std::string>();

  client.use_origin(r.b());
  auto downloaded = client.download(certificate);
  INFO(downloaded.describe());
  REQUIRE(downloaded.status == 200);
  const fs::path bundle = r.tmp / "chain.pem";
  write_text(bundle, downloaded.body);
  REQUIRE(split_pem_chain(bundle, r.tmp.path(), "chain") >= 2);
  auto verified = verify_chain(r.pki.root_cert(), r.tmp / "chain-1.crt", r.tmp / "chain-0.crt");
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  CHECK(r.issued() == 1);
  CHECK(r.ledger_count(order_url) == "1");
}

TEST_CASE("ACME replicas share single-use nonces", "[acme][acme-replicas]") {
  testing::PostgresServer postgres;
  AcmeReplicas r(postgres);
  AcmeClient client = r.client();
  require_status(client.new_account(), 201, "newAccount on A");

  // A nonce from A is accepted once on B, then refused on A and B.
  client.use_origin(r.a());
  const std::string from_a = client.fresh_nonce();
  client.use_origin(r.b());
  auto first = client.post_as_get(client.account_url(), {.nonce = from_a});
  INFO(first.describe());
  CHECK(first.status == 200);
  check_problem(client.post_as_get(client.account_url(), {.nonce = from_a}), 400, "badNonce");
  client.use_origin(r.a());
  check_problem(client.post_as_get(client.account_url(), {.nonce = from_a}), 400, "badNonce");

  // A nonce used on A is refused on B.
  const std::string used_on_a = client.fresh_nonce();
  require_status(client.post_as_get(client.account_url(), {.nonce = used_on_a}), 200, "POST-as-GET on A");
  client.use_origin(r.b());
  check_problem(client.post_as_get(client.account_url(), {.nonce = used_on_a}), 400, "badNonce");
}

TEST_CASE("ACME replicas finalize a ready order once", "[acme][acme-replicas]") {
  testing::PostgresServer postgres;
  AcmeReplicas r(postgres);
  AcmeClient client = r.client();
  require_status(client.new_account(), 201, "newAccount on A");
  constexpr int kRounds = 3;
  constexpr int kThreads = 8;  // half on each replica

  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    client.use_origin(round % 2 == 0 ? r.a() : r.b());
    const auto order = client.ready_order({{"localhost"}, {"acme-a.keystep.test"}}, r.responder);
    auto key = testing::make_key();
    const auto csr = csr_der(key.get(), {.dns = {"localhost", "acme-a.keystep.test"}});

    std::vector<AcmeClient> clients;
    std::vector<std::string> nonces;
    for (int t = 0; t < kThreads; ++t) {
      clients.push_back(client.fork());
      clients.back().use_origin(t % 2 == 0 ? r.a() : r.b());
      nonces.push_back(clients.back().fresh_nonce());
    }
    std::vector<AcmeReply> replies(kThreads);
    std::vector<std::string> errors(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const auto i = static_cast<std::size_t>(t);
        start.arrive_and_wait();
        try {
          replies[i] = clients[i].post(order.finalize, nlohmann::json{{"csr", common::base64url_encode(csr)}},
                                       {.nonce = nonces[i]});
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();

    int valid = 0;
    std::string certificate;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      INFO("thread " << i << " " << errors[i] << "\n" << replies[i].describe());
      REQUIRE(errors[i].empty());
      if (replies[i].status == 200) {
        ++valid;
        CHECK(replies[i].json().value("status", "") == "valid");
        certificate = replies[i].json().value("certificate", "");
      } else {
        CHECK(replies[i].status == 403);
        CHECK(replies[i].problem_type() == std::string(kAcmeErrorPrefix) + "orderNotReady");
      }
    }
    REQUIRE(valid == 1);
    CHECK(r.ledger_count(order.url) == "1");

    std::vector<std::string> serials;
    for (const auto& origin : {r.a(), r.b()}) {
      client.use_origin(origin);
      auto downloaded = client.download(certificate);
      INFO(downloaded.describe());
      REQUIRE(downloaded.status == 200);
      auto leaf = crypto::Certificate::from_pem(downloaded.body);
      REQUIRE(leaf);
      serials.push_back(leaf->serial_decimal());
    }
    CHECK(serials[0] == serials[1]);
  }
  CHECK(r.issued() == kRounds);
}

}  // namespace
}  // namespace keystep::integration
