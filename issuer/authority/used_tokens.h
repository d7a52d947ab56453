#pragma once
// UsedTokens remembers one-time token ids until the tokens expire, so each
// token is accepted once. use() is an atomic insert-if-absent: of two
// concurrent requests with one token, exactly one succeeds. Implementations
// are thread-safe.

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"

namespace keystep::authority {

class UsedTokens {
 public:
  virtual ~UsedTokens() = default;
  // use records `id` until `expires_at`; already_exists if it was recorded.
  [[nodiscard]] virtual Status use(std::string_view provisioner, std::string_view id,
                                   common::TimePoint expires_at) = 0;
};

// MemoryUsedTokens keeps ids in process memory; ids whose token has expired
// (plus the leeway) are dropped as new ones arrive, so memory stays bounded
// by the number of live tokens.
class MemoryUsedTokens final : public UsedTokens {
 public:
  explicit MemoryUsedTokens(const common::Clock& clock) : clock_(clock) {}
  [[nodiscard]] Status use(std::string_view provisioner, std::string_view id, common::TimePoint expires_at) override;
  [[nodiscard]] std::size_t size() const;

 private:
  void collect(common::TimePoint now);
  const common::Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, common::TimePoint> ids_;
  common::TimePoint next_collect_{};
};

}  // namespace keystep::authority
