#pragma once
// CrlService keeps the CA's CRL current for every replica. The CRL lives in
// the Store: a replica serves the stored one while it is younger than the
// renew period and otherwise signs a new one with the next CRL number from
// the database and publishes it (the greater number wins a race). revoke
// regenerates at once. Thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "issuer/authority/authority.h"
#include "issuer/common/error.h"
#include "issuer/metrics/metrics.h"
#include "issuer/storage/store.h"

namespace keystep::authority {

struct CrlOptions {
  std::chrono::seconds cache_duration{std::chrono::hours(24)};  // nextUpdate - thisUpdate
  std::chrono::seconds renew_period{std::chrono::hours(16)};    // regenerate after this age
  std::string idp_url;                                          // Issuing Distribution Point; "" = none
};

class CrlService {
 public:
  CrlService(const Authority& authority, CrlOptions options, metrics::Metrics* metrics)
      : authority_(authority), options_(std::move(options)), metrics_(metrics) {}

  // current returns the CRL to serve, regenerating a missing or stale one.
  [[nodiscard]] Result<storage::CrlRecord> current();
  // regenerate signs and publishes a new CRL now.
  [[nodiscard]] Result<storage::CrlRecord> regenerate();
  // revoked regenerates after `serial` was revoked. The revocation stands
  // even if the CRL cannot be refreshed now (that is logged); the next
  // request for the CRL regenerates it.
  void revoked(const std::string& serial);

 private:
  const Authority& authority_;
  CrlOptions options_;
  metrics::Metrics* metrics_;
  std::mutex mu_;  // one regeneration at a time in this process
};

}  // namespace keystep::authority
