#pragma once
// PostgresStore keeps the CA's state in PostgreSQL, shared by every replica:
// uniqueness, one use per token and CRL monotonicity are enforced by the
// database. Calls are single parameterized statements on a pooled
// connection (see PostgresPool). A lost connection fails the call with
// unavailable and is reopened by a later call; callers decide to retry.
// Thread-safe. Times are stored as unix seconds.

#include <memory>
#include <string>
#include <vector>

#include "issuer/storage/postgres_pool.h"
#include "issuer/storage/storage_config.h"
#include "issuer/storage/store.h"

namespace keystep::storage {

class PostgresStore final : public Store {
 public:
  // open connects, applies migrations under pg_advisory_lock (so replicas
  // starting together apply each one once) and returns the store.
  // unavailable if the server cannot be reached or refuses the login;
  // failed_precondition if the schema is newer than this binary.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> open(const StorageConfig& config,
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

  // Param is one statement parameter, sent as text unless is_binary.
  struct Param {
    std::string value;
    bool is_null = false;
    bool is_binary = false;
  };

 private:
  explicit PostgresStore(std::unique_ptr<PostgresPool> pool) : pool_(std::move(pool)) {}
  // exec runs one parameterized statement on a pooled connection.
  [[nodiscard]] Result<PgResultPtr> exec(const char* sql, const std::vector<Param>& params, std::string_view what);
  [[nodiscard]] Status migrate(const common::Clock& clock);
  [[nodiscard]] Result<std::optional<CertificateRecord>> find_one_certificate(const char* sql, std::string_view key);
  [[nodiscard]] Result<std::optional<AcmeObject>> find_one_acme_object(const char* sql, AcmeKind kind,
                                                                       std::string_view key);

  std::unique_ptr<PostgresPool> pool_;
};

}  // namespace keystep::storage
