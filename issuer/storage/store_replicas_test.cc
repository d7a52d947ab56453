// Races and replicas: what the database guarantees when several threads or
// several Store objects (replicas) share one database. Run against SQLite
// (several connections to one file) and a real PostgreSQL 15.

#include <algorithm>
#include <atomic>
#include <barrier>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "issuer/storage/migrations.h"
#include "issuer/storage/testing_backends.h"

namespace keystep::storage {
namespace {

using testing::fresh_database;
using testing::kT0;
using testing::open_or_throw;
using namespace std::chrono_literals;

#define BACKEND GENERATE(as<std::string>{}, "sqlite", "postgres")

// run_together starts `n` threads that each call fn(i) once all are ready.
template <class Fn>
void run_together(int n, Fn fn) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

CertificateRecord certificate(const std::string& serial, const std::string& source, const std::string& request_id) {
  CertificateRecord r;
  r.serial = serial;
  r.subject = "svc";
  r.not_before = kT0;
  r.not_after = kT0 + 1h;
  r.source = source;
  r.request_id = request_id;
  r.created_at = kT0;
  return r;
}

TEST_CASE("threads racing to use one token id: exactly one succeeds", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto store = open_or_throw(db, clock);

  std::atomic<int> accepted{0};
  std::atomic<int> replayed{0};
  run_together(8, [&](int) {
    auto r = store->use_token("admin", "jti-race", kT0 + 5min);
    if (r) {
      ++accepted;
    } else if (r.error().code == Errc::already_exists) {
      ++replayed;
    }
  });
  CHECK(accepted == 1);
  CHECK(replayed == 7);
}

TEST_CASE("a token id used through one replica is refused by the others", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  auto c = open_or_throw(db, clock);

  REQUIRE_OK(a->use_token("admin", "jti-1", kT0 + 5min));
  CHECK(b->use_token("admin", "jti-1", kT0 + 5min).error().code == Errc::already_exists);
  CHECK(c->use_token("admin", "jti-1", kT0 + 5min).error().code == Errc::already_exists);

  std::vector<Store*> replicas = {a.get(), b.get(), c.get()};
  std::atomic<int> accepted{0};
  run_together(6, [&](int i) {
    if (replicas[static_cast<std::size_t>(i % 3)]->use_token("admin", "jti-2", kT0 + 5min)) ++accepted;
  });
  CHECK(accepted == 1);
}

TEST_CASE("an ACME nonce from one replica is good once on any replica, even when they race", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  auto c = open_or_throw(db, clock);

  REQUIRE_OK(a->add_nonce("from-a", kT0 + 1h));
  CHECK(b->consume_nonce("from-a", kT0).value());
  CHECK_FALSE(c->consume_nonce("from-a", kT0).value());

  REQUIRE_OK(a->add_nonce("raced", kT0 + 1h));
  std::vector<Store*> replicas = {a.get(), b.get(), c.get()};
  std::atomic<int> accepted{0};
  run_together(6, [&](int i) {
    auto r = replicas[static_cast<std::size_t>(i % 3)]->consume_nonce("raced", kT0);
    if (r && *r) ++accepted;
  });
  CHECK(accepted == 1);
}

TEST_CASE("replicas racing to update one ACME object: one wins per version", "[storage][replicas][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  std::vector<Store*> replicas = {a.get(), b.get()};

  AcmeObject order;
  order.kind = AcmeKind::order;
  order.id = "order-race";
  order.owner = "acct-1";
  order.status = "pending";
  order.document = "{}";
  order.created_at = kT0;
  REQUIRE_OK(a->insert_acme_objects({order}));

  // Every round, all threads read the object before any of them writes
  // (the barrier), so they all hold the same version and one may win.
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  std::barrier round(kThreads);
  std::vector<std::atomic<int>> won(kRounds);
  std::vector<std::atomic<int>> lost(kRounds);
  std::atomic<int> other_errors{0};
  std::vector<std::string> winners(kRounds);
  run_together(kThreads, [&](int t) {
    Store* store = replicas[static_cast<std::size_t>(t % 2)];
    for (int r = 0; r < kRounds; ++r) {
      auto read = store->find_acme_object(AcmeKind::order, "order-race");
      round.arrive_and_wait();
      if (read && read->has_value()) {
        AcmeObject mine = **read;
        mine.status = "round-" + std::to_string(r);
        mine.document = "{\"thread\":" + std::to_string(t) + "}";
        auto updated = store->update_acme_object(mine);
        if (updated && *updated == mine.version + 1) {
          ++won[static_cast<std::size_t>(r)];
          winners[static_cast<std::size_t>(r)] = mine.document;  // one writer per round when correct
        } else if (!updated && updated.error().code == Errc::failed_precondition) {
          ++lost[static_cast<std::size_t>(r)];
        } else {
          ++other_errors;
        }
      } else {
        ++other_errors;
      }
      round.arrive_and_wait();
    }
  });
  CHECK(other_errors == 0);
  for (int r = 0; r < kRounds; ++r) {
    INFO("round " << r);
    CHECK(won[static_cast<std::size_t>(r)] == 1);
    CHECK(lost[static_cast<std::size_t>(r)] == kThreads - 1);
  }
  auto final_state = b->find_acme_object(AcmeKind::order, "order-race");
  REQUIRE_OK(final_state);
  REQUIRE(final_state->has_value());
  CHECK((*final_state)->version == 1 + kRounds);
  CHECK((*final_state)->status == "round-" + std::to_string(kRounds - 1));
  CHECK((*final_state)->document == winners.back());
}

TEST_CASE("replicas racing to create an ACME account for one key: exactly one succeeds", "[storage][replicas][acme]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  std::vector<Store*> replicas = {a.get(), b.get()};

  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  run_together(6, [&](int t) {
    AcmeObject account;
    account.kind = AcmeKind::account;
    account.id = "acct-" + std::to_string(t);
    account.lookup = "acme/same-key";
    account.status = "valid";
    account.document = "{}";
    account.created_at = kT0;
    auto r = replicas[static_cast<std::size_t>(t % 2)]->insert_acme_objects({account});
    if (r) {
      ++created;
    } else if (r.error().code == Errc::already_exists) {
      ++refused;
    }
  });
  CHECK(created == 1);
  CHECK(refused == 5);
  auto found = a->find_acme_object_by_lookup(AcmeKind::account, "acme/same-key");
  REQUIRE_OK(found);
  CHECK(found->has_value());
}

TEST_CASE("serials and CertificateRequest UIDs never collide across replicas", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  std::vector<Store*> replicas = {a.get(), b.get()};

  constexpr int kSerials = 10;
  std::atomic<int> inserted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other_errors{0};
  // Four threads (two per replica) each try every serial and the same UIDs.
  run_together(4, [&](int t) {
    Store* store = replicas[static_cast<std::size_t>(t % 2)];
    for (int s = 0; s < kSerials; ++s) {
      auto by_serial = store->insert_certificate(certificate(std::to_string(1000 + s), "api", "x"));
      auto by_uid = store->insert_certificate(
          certificate(std::to_string(2000 + t * kSerials + s), "certificaterequest", "uid-" + std::to_string(s)));
      for (const auto* r : {&by_serial, &by_uid}) {
        if (*r) {
          ++inserted;
        } else if (r->error().code == Errc::already_exists) {
          ++refused;
        } else {
          ++other_errors;
        }
      }
    }
  });
  CHECK(other_errors == 0);
  CHECK(inserted == 2 * kSerials);
  CHECK(refused == 2 * 3 * kSerials);
  for (int s = 0; s < kSerials; ++s) {
    auto found = b->find_certificate_by_request("uid-" + std::to_string(s));
    REQUIRE_OK(found);
    CHECK(found->has_value());
  }
}

TEST_CASE("CRL numbers from several replicas never repeat and only grow", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  std::vector<Store*> replicas = {a.get(), b.get()};

  // Alternating replicas, one after the other: strictly increasing.
  std::int64_t previous = 0;
  for (int i = 0; i < 10; ++i) {
    auto n = replicas[static_cast<std::size_t>(i % 2)]->next_crl_number();
    REQUIRE_OK(n);
    CHECK(*n > previous);
    previous = *n;
  }

  // Concurrently: no duplicates, and each thread sees its own numbers grow.
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::vector<std::int64_t>> taken(kThreads);
  run_together(kThreads, [&](int t) {
    for (int i = 0; i < kEach; ++i) {
      auto n = replicas[static_cast<std::size_t>(t % 2)]->next_crl_number();
      if (n) taken[static_cast<std::size_t>(t)].push_back(*n);
    }
  });
  std::set<std::int64_t> all;
  for (const auto& numbers : taken) {
    CHECK(numbers.size() == kEach);
    CHECK(std::is_sorted(numbers.begin(), numbers.end()));
    for (auto n : numbers) {
      CHECK(n > previous);
      all.insert(n);
    }
  }
  CHECK(all.size() == kThreads * kEach);
}

TEST_CASE("replicas publishing CRLs at once keep the greatest number", "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);
  auto a = open_or_throw(db, clock);
  auto b = open_or_throw(db, clock);
  std::vector<Store*> replicas = {a.get(), b.get()};

  std::atomic<int> published{0};
  std::atomic<int> lost{0};
  run_together(6, [&](int t) {
    std::int64_t number = 10 + t;
    auto r = replicas[static_cast<std::size_t>(t % 2)]->publish_crl(
        CrlRecord{number, kT0, kT0 + 1h, "crl-" + std::to_string(number)});
    if (r) {
      ++published;
    } else if (r.error().code == Errc::failed_precondition) {
      ++lost;
    }
  });
  CHECK(published + lost == 6);
  CHECK(published >= 1);
  auto latest = a->latest_crl();
  REQUIRE_OK(latest);
  REQUIRE(latest->has_value());
  CHECK((*latest)->number == 15);
  CHECK((*latest)->der == "crl-15");
}

TEST_CASE("replicas opening a fresh database at once all succeed with one set of migrations",
          "[storage][replicas]") {
  auto db = fresh_database(BACKEND);
  INFO("backend: " << db.backend);
  common::FakeClock clock(kT0);

  std::vector<Result<std::unique_ptr<Store>>> opened;
  for (int i = 0; i < 3; ++i) opened.emplace_back(fail(Errc::internal, "not run"));
  run_together(3, [&](int i) { opened[static_cast<std::size_t>(i)] = db.open(clock); });
  for (auto& store : opened) {
    REQUIRE_OK(store);
    REQUIRE_OK((*store)->ping());
  }
  std::size_t migrations = db.backend == "sqlite" ? sqlite_migrations().size() : postgres_migrations().size();
  CHECK(db.query("SELECT count(*) FROM schema_migrations") == std::to_string(migrations));
  REQUIRE_OK((*opened[0])->use_token("admin", "jti", kT0 + 1h));
  CHECK((*opened[1])->use_token("admin", "jti", kT0 + 1h).error().code == Errc::already_exists);
}

}  // namespace
}  // namespace keystep::storage
