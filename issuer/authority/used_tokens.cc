#include "issuer/authority/used_tokens.h"

namespace keystep::authority {
namespace {
// Tokens are accepted up to a minute past exp; keep ids a little longer.
constexpr std::chrono::minutes kRetention{2};
constexpr std::chrono::seconds kCollectEvery{30};
}  // namespace

Status MemoryUsedTokens::use(std::string_view provisioner, std::string_view id, common::TimePoint expires_at) {
  const auto now = clock_.now();
  std::string key;
  key.reserve(provisioner.size() + 1 + id.size());
  key.append(provisioner).append(1, '\0').append(id);
  std::lock_guard lock(mu_);
  if (now >= next_collect_) collect(now);
  auto [it, inserted] = ids_.try_emplace(std::move(key), expires_at + kRetention);
  if (!inserted) return fail(Errc::already_exists, "token already used");
  return ok();
}

std::size_t MemoryUsedTokens::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

void MemoryUsedTokens::collect(common::TimePoint now) {
  std::erase_if(ids_, [now](const auto& entry) { return entry.second < now; });
  next_collect_ = now + kCollectEvery;
}

}  // namespace keystep::authority
