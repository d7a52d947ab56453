#include "issuer/storage/postgres_pool.h"

#include "issuer/common/log.h"
#include "issuer/storage/storage_config.h"

namespace keystep::storage {
namespace {

// one_line folds libpq's multi-line messages ("...\n\tIs the server running...").
std::string one_line(const char* text) {
  std::string out;
  for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
    char c = (*p == '\n' || *p == '\t') ? ' ' : *p;
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Server notices ("relation already exists, skipping") go to the debug log
// rather than to libpq's default, stderr.
void log_notice(void*, const char* message) {
  common::logger("storage")->debug("postgres notice message=\"{}\"", one_line(message));
}

}  // namespace

PostgresPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(slot_, is_broken_);
}

PGconn* PostgresPool::Lease::get() const { return pool_->connections_[slot_].get(); }

PostgresPool::PostgresPool(std::string dsn, crypto::SecretBytes password, std::chrono::seconds connect_timeout,
                           int size)
    : dsn_(std::move(dsn)),
      connect_timeout_(std::to_string(connect_timeout.count())),
      description_("postgres " + describe_dsn(dsn_)),
      connections_(static_cast<std::size_t>(size)),
      is_leased_(static_cast<std::size_t>(size), false) {
  if (!password.empty()) {
    std::vector<std::uint8_t> terminated(password.data(), password.data() + password.size());
    terminated.push_back(0);
    password_ = crypto::SecretBytes(std::move(terminated));
  }
}

Result<PgConnPtr> PostgresPool::connect() const {
  // dbname comes first and is expanded from the DSN; the keywords after it
  // override the DSN's, so the password and timeout always come from config.
  std::vector<const char*> keywords = {"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {dsn_.c_str(), connect_timeout_.c_str(), "keystep"};
  if (!password_.empty()) {
    keywords.push_back("password");
    values.push_back(reinterpret_cast<const char*>(password_.data()));
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PgConnPtr conn(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) return fail(Errc::unavailable, "cannot connect to " + description_ + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return fail(Errc::unavailable, "cannot connect to " + description_ + ": " + one_line(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), log_notice, nullptr);
  return conn;
}

Result<PostgresPool::Lease> PostgresPool::acquire() {
  std::size_t slot = 0;
  bool needs_connection = false;
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] {
      for (std::size_t i = 0; i < is_leased_.size(); ++i) {
        if (!is_leased_[i]) {
          slot = i;
          return true;
        }
      }
      return false;
    });
    // Prefer an open connection over one that needs connecting.
    for (std::size_t i = 0; i < is_leased_.size(); ++i) {
      if (!is_leased_[i] && connections_[i]) {
        slot = i;
        break;
      }
    }
    is_leased_[slot] = true;
    needs_connection = !connections_[slot] || PQstatus(connections_[slot].get()) != CONNECTION_OK;
  }
  Lease lease(*this, slot);
  if (needs_connection) {
    // Connecting outside the lock: the slot is ours while leased.
    auto conn = connect();
    if (!conn) {
      lease.mark_broken();
      return tl::unexpected(conn.error());
    }
    connections_[slot] = std::move(*conn);
  }
  return lease;
}

void PostgresPool::release(std::size_t slot, bool is_broken) {
  PgConnPtr dropped;
  {
    std::lock_guard lock(mu_);
    if (is_broken) dropped = std::move(connections_[slot]);
    is_leased_[slot] = false;
  }
  freed_.notify_one();
  // `dropped` closes here, outside the lock.
}

}  // namespace keystep::storage
