#include "issuer/acme/nonces.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "issuer/storage/open_store.h"

using namespace keystep;
using namespace std::chrono_literals;

namespace {

struct SqliteFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("keystep-nonces-test-" + std::to_string(::getpid()) + "-" + std::to_string(next()) + ".db");
  static int next() {
    static std::atomic<int> n{0};
    return n++;
  }
  ~SqliteFile() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }
};

}  // namespace

TEST_CASE("acme nonces: each is good once, until it expires, and unknown ones are badNonce") {
  SqliteFile file;
  common::FakeClock clock(std::chrono::system_clock::now());
  storage::StorageConfig config;
  config.sqlite_path = file.path;
  auto store = storage::open_store(config, clock);
  REQUIRE(store);
  acme::Nonces nonces(**store, clock, 10min);

  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto n = nonces.issue();
    REQUIRE(n);
    CHECK(n->size() == 22);  // 128 bits, base64url without padding
    CHECK(n->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
    CHECK(seen.insert(*n).second);
  }
  auto n = *nonces.issue();
  CHECK_FALSE(nonces.redeem(n).has_value());
  auto replay = nonces.redeem(n);
  REQUIRE(replay.has_value());
  CHECK(replay->type == "badNonce");
  CHECK(nonces.redeem("never-issued")->type == "badNonce");
  auto old = *nonces.issue();
  clock.advance(10min + 1s);
  CHECK(nonces.redeem(old)->type == "badNonce");
}
