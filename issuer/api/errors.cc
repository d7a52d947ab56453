#include "issuer/api/errors.h"

namespace keystep::api {

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return 400;
    case Errc::unauthenticated: return 401;
    case Errc::permission_denied: return 403;
    case Errc::not_found: return 404;
    case Errc::already_exists: return 409;
    case Errc::failed_precondition:
    case Errc::unavailable: return 503;
    case Errc::unimplemented: return 501;
    case Errc::internal: return 500;
  }
  return 500;
}

http::Response error_response(const Error& error) {
  const int status = http_status(error.code);
  std::string message;
  switch (status) {
    case 400: message = "The request could not be completed: " + error.message + "."; break;
    case 401: message = "The request lacked necessary authorization to be completed: " + error.message + "."; break;
    case 403: message = "The request was forbidden by the certificate authority: " + error.message + "."; break;
    case 500:
      message = "The certificate authority encountered an Internal Server Error. Please see the certificate "
                "authority logs for more info.";
      break;
    case 503: message = "The certificate authority is unavailable: " + error.message + "."; break;
    case 501: message = "The requested method is not implemented by the certificate authority: " + error.message + "."; break;
    default: message = error.message; break;
  }
  return http::Response::error(status, message);
}

}  // namespace keystep::api
