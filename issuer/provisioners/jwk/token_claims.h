#pragma once
// The claim rules every token Keystep accepts shares, whatever proves it
// (a provisioner's JWK, or a certificate's key for renewal): the time
// window, the id recorded against replay, and how long to remember it.

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"

namespace keystep::provisioners {

inline constexpr std::chrono::seconds kTokenLeeway{60};

// check_token_times requires a numeric exp and applies nbf/exp/iat with
// kTokenLeeway (nbf and iat only when present); returns exp. Failures are
// unauthenticated: "token is expired (exp)", "token not valid yet (nbf)", ...
// Unlike step-ca, exp is required: it bounds how long the token id must be
// remembered and how long a leaked token is worth anything.
[[nodiscard]] Result<common::TimePoint> check_token_times(const nlohmann::json& claims, common::TimePoint now);

// token_id is the jti, or the lowercase hex SHA-256 of the whole token when
// it has none (as step-ca does).
[[nodiscard]] std::string token_id(const nlohmann::json& claims, std::string_view raw_token);

// remember_token_until is how long a used token id must be kept: tokens are
// accepted up to the leeway past exp.
[[nodiscard]] inline common::TimePoint remember_token_until(common::TimePoint expires_at) {
  return expires_at + kTokenLeeway + std::chrono::minutes(1);
}

}  // namespace keystep::provisioners
