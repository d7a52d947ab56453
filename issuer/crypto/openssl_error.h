#pragma once
// openssl_error(code, what) drains OpenSSL's thread-local error queue and
// returns an Error "what (reason)" carrying the first queued reason, so a
// failure never leaks into the next, unrelated OpenSSL call.

#include <string>
#include <string_view>

#include <openssl/err.h>

#include "issuer/common/error.h"

namespace keystep::crypto {

[[nodiscard]] inline std::string drain_openssl_errors() {
  std::string first;
  while (unsigned long e = ERR_get_error()) {
    if (first.empty()) {
      const char* reason = ERR_reason_error_string(e);
      first = reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(e));
    }
  }
  return first;
}

[[nodiscard]] inline tl::unexpected<Error> openssl_error(Errc code, std::string_view what) {
  std::string reason = drain_openssl_errors();
  std::string message(what);
  if (!reason.empty()) message += " (" + reason + ")";
  return fail(code, std::move(message));
}

}  // namespace keystep::crypto
