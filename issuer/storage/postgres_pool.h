#pragma once
// PostgresPool is a fixed-size pool of libpq connections to one database.
// Connections are opened lazily (at most `size`), handed out one per call
// through a Lease, and dropped when a call finds them broken, so the next
// lease reconnects. Thread-safe; a caller waits while all are leased.
//
// The password comes from a file, is kept in SecretBytes and passed to
// libpq as its own keyword; it never appears in a log or error message.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "issuer/common/error.h"
#include "issuer/crypto/secret_bytes.h"
#include "issuer/storage/postgres_ptr.h"

namespace keystep::storage {

class PostgresPool {
 public:
  // Lease lends one open connection and returns it to the pool when
  // destroyed; mark_broken() closes it instead.
  class Lease {
   public:
    Lease(PostgresPool& pool, std::size_t slot) : pool_(&pool), slot_(slot) {}
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), slot_(other.slot_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    [[nodiscard]] PGconn* get() const;
    void mark_broken() { is_broken_ = true; }

   private:
    PostgresPool* pool_;
    std::size_t slot_;
    bool is_broken_ = false;
  };

  // password may be empty (no password keyword: trust, peer, ~/.pgpass).
  PostgresPool(std::string dsn, crypto::SecretBytes password, std::chrono::seconds connect_timeout, int size);

  // acquire waits for a free slot and connects it if needed; unavailable
  // when the server cannot be reached or refuses the login.
  [[nodiscard]] Result<Lease> acquire();

  // describe is "postgres host=… port=… dbname=… user=…".
  [[nodiscard]] const std::string& describe() const { return description_; }

 private:
  [[nodiscard]] Result<PgConnPtr> connect() const;
  void release(std::size_t slot, bool is_broken);

  std::string dsn_;
  crypto::SecretBytes password_;  // NUL-terminated for libpq; empty if none
  std::string connect_timeout_;
  std::string description_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<PgConnPtr> connections_;
  std::vector<bool> is_leased_;
};

}  // namespace keystep::storage
