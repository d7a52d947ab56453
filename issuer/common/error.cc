#include "issuer/common/error.h"

namespace keystep {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::permission_denied: return "permission_denied";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::failed_precondition: return "failed_precondition";
    case Errc::unavailable: return "unavailable";
    case Errc::unimplemented: return "unimplemented";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace keystep
