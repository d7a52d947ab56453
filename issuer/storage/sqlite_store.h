#pragma once
// SqliteStore keeps the CA's state in one SQLite file in WAL mode: the
// default for a single instance. It holds one connection guarded by a
// mutex (safe to share between threads) with its prepared statements
// cached; other processes may open the same file, and writers wait up to
// kSqliteBusyTimeout for each other before failing with unavailable.
// Times are stored as unix seconds.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <sqlite3.h>

#include "issuer/common/free_with.h"
#include "issuer/storage/store.h"

namespace keystep::storage {

inline constexpr std::chrono::milliseconds kSqliteBusyTimeout{5000};

using SqlitePtr = std::unique_ptr<sqlite3, common::FreeWith<sqlite3_close_v2>>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, common::FreeWith<sqlite3_finalize>>;

class SqliteStore final : public Store {
 public:
  // open creates the file if needed, enables WAL and applies migrations
  // (BEGIN IMMEDIATE, so concurrent openers apply each one once).
  // failed_precondition if the schema is newer than this binary.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path,
                                                                 const common::Clock& clock);

  [[nodiscard]] Status insert_certificate(const CertificateRecord& record) override;
  [[nodiscard]] Result<std::optional<CertificateRecord>> find_certificate(std::string_view serial) override;
  [[nodiscard]] Result<std::optional<CertificateRecord>> find_certificate_by_request(
      std::string_view request_id) override;
  [[nodiscard]] Status use_token(std::string_view provisioner, std::string_view token_id,
                                 common::TimePoint expires_at) override;
  [[nodiscard]] Result<std::size_t> collect_used_tokens(common::TimePoint now) override;
  [[nodiscard]] Result<std::size_t> collect_acme_objects(common::TimePoint expired_before) override;
  [[nodiscard]] Status add_nonce(std::string_view nonce, common::TimePoint expires_at) override;
  [[nodiscard]] Result<bool> consume_nonce(std::string_view nonce, common::TimePoint now) override;
  [[nodiscard]] Status insert_acme_objects(const std::vector<AcmeObject>& objects) override;
  [[nodiscard]] Result<std::optional<AcmeObject>> find_acme_object(AcmeKind kind, std::string_view id) override;
  [[nodiscard]] Result<std::optional<AcmeObject>> find_acme_object_by_lookup(AcmeKind kind,
                                                                             std::string_view lookup) override;
  [[nodiscard]] Result<std::vector<AcmeObject>> list_acme_objects(AcmeKind kind, std::string_view key,
                                                                  bool by_parent = false) override;
  [[nodiscard]] Result<std::int64_t> update_acme_object(const AcmeObject& object) override;
  [[nodiscard]] Status revoke(const RevocationRecord& record) override;
  [[nodiscard]] Result<std::optional<RevocationRecord>> find_revocation(std::string_view serial) override;
  [[nodiscard]] Result<std::vector<RevocationRecord>> list_revocations(common::TimePoint expired_before) override;
  [[nodiscard]] Result<std::int64_t> revocation_count() override;
  [[nodiscard]] Status publish_crl(const CrlRecord& crl) override;
  [[nodiscard]] Result<std::optional<CrlRecord>> latest_crl() override;
  [[nodiscard]] Result<std::int64_t> next_crl_number() override;
  [[nodiscard]] Status ping() override;
  [[nodiscard]] std::string describe() const override;

 private:
  class Statement;
  SqliteStore(SqlitePtr db, std::filesystem::path path);
  // prepare returns the cached statement for `sql` (a string literal),
  // reset and ready to bind. Caller holds mu_.
  [[nodiscard]] Result<Statement> prepare(const char* sql);
  [[nodiscard]] Status migrate(const common::Clock& clock);
  [[nodiscard]] Result<std::optional<CertificateRecord>> find_one_certificate(const char* sql, std::string_view key);
  // in_transaction runs `body` between BEGIN IMMEDIATE and COMMIT and rolls
  // back if either fails. Caller holds mu_.
  [[nodiscard]] Status in_transaction(std::string_view what, const std::function<Status()>& body);
  [[nodiscard]] Result<std::optional<AcmeObject>> find_one_acme_object(const char* sql, AcmeKind kind,
                                                                       std::string_view key);

  std::mutex mu_;
  SqlitePtr db_;
  std::filesystem::path path_;
  std::unordered_map<const char*, SqliteStmtPtr> statements_;
};

}  // namespace keystep::storage
