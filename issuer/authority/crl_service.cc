#include "issuer/authority/crl_service.h"

#include "issuer/common/log.h"
#include "issuer/revocation/crl.h"

namespace keystep::authority {
namespace {

// Revocations of certificates that expired more than this long ago leave
// the CRL (as step-ca does).
constexpr std::chrono::hours kKeepExpired{1};

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("authority");
  return logger;
}

}  // namespace

Result<storage::CrlRecord> CrlService::current() {
  auto& store = authority_.store();
  auto latest = store.latest_crl();
  if (!latest) return tl::unexpected(latest.error());
  const auto now = authority_.clock().now();
  if (latest->has_value() && now < (*latest)->this_update + options_.renew_period) {
    if (metrics_ != nullptr) metrics_->set_crl_this_update((*latest)->this_update);
    return **latest;
  }
  return regenerate();
}

void CrlService::revoked(const std::string& serial) {
  if (auto crl = regenerate(); !crl) {
    log()->warn("crl regeneration after revoke failed serial={} error=\"{}\"", serial, crl.error().message);
  }
}

Result<storage::CrlRecord> CrlService::regenerate() {
  std::lock_guard lock(mu_);
  auto& store = authority_.store();
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(authority_.clock().now());
  auto revoked = store.list_revocations(now - kKeepExpired);
  if (!revoked) return tl::unexpected(revoked.error());
  auto number = store.next_crl_number();
  if (!number) return tl::unexpected(number.error());
  auto der = revocation::build_crl(*authority_.ca(), *revoked, *number, now, options_.cache_duration, options_.idp_url);
  if (!der) return tl::unexpected(der.error());
  storage::CrlRecord record{*number, now, now + options_.cache_duration, std::move(*der)};
  if (auto published = store.publish_crl(record); !published) {
    if (published.error().code != Errc::failed_precondition) return tl::unexpected(published.error());
    // Another replica published a newer CRL meanwhile: serve that one.
    auto latest = store.latest_crl();
    if (!latest) return tl::unexpected(latest.error());
    if (latest->has_value()) record = **latest;
  } else {
    log()->info("crl published number={} entries={}", record.number, revoked->size());
  }
  if (metrics_ != nullptr) metrics_->set_crl_this_update(record.this_update);
  return record;
}

}  // namespace keystep::authority
