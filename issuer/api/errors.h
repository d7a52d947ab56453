#pragma once
// The one place where an Error becomes an HTTP response, in step-ca's wire
// shape {"status":N,"message":"..."} (reference §6): invalid_argument 400,
// unauthenticated 401, permission_denied 403, not_found 404,
// already_exists 409, failed_precondition and unavailable 503, internal 500.
// Messages carry the detail a client can act on; internal errors do not.

#include "issuer/common/error.h"
#include "issuer/http/message.h"

namespace keystep::api {

[[nodiscard]] int http_status(Errc code);
[[nodiscard]] http::Response error_response(const Error& error);

}  // namespace keystep::api
