#include "operator/kube/api_errors.h"

#include <string>

#include "operator/kube/client.h"

namespace keystep::kube {
namespace {

constexpr std::string_view kConflictPrefix = "conflict: ";
constexpr std::string_view kGonePrefix = "gone: ";

std::string string_field(const nlohmann::json& body, const char* name) {
  if (!body.is_object()) return "";
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Errc code_for(int http_status, const std::string& reason) {
  switch (http_status) {
    case 400:
    case 422:
      return Errc::invalid_argument;
    case 401:
      return Errc::unauthenticated;
    case 403:
      return Errc::permission_denied;
    case 404:
      return Errc::not_found;
    case 409:
      return reason == "AlreadyExists" ? Errc::already_exists : Errc::unavailable;
    case 410:
      return Errc::failed_precondition;
    case 429:
      return Errc::unavailable;
    default:
      break;
  }
  if (http_status >= 500) return Errc::unavailable;
  // 405, 406, 413, 415: the request itself is wrong and retrying will not help.
  if (http_status >= 400) return Errc::invalid_argument;
  return Errc::internal;
}

}  // namespace

Error map_status(int http_status, const nlohmann::json& body, std::string_view what) {
  std::string reason = string_field(body, "reason");
  std::string detail = string_field(body, "message");
  if (detail.empty()) detail = reason.empty() ? "no message" : reason;

  Errc code = code_for(http_status, reason);
  std::string message;
  if (http_status == 409 && code == Errc::unavailable) message = kConflictPrefix;
  if (http_status == 410) message = kGonePrefix;
  message += what;
  message += ": " + std::to_string(http_status) + " " + detail;
  return Error{code, std::move(message)};
}

bool is_conflict(const Error& e) {
  return e.code == Errc::unavailable && std::string_view(e.message).starts_with(kConflictPrefix);
}

bool is_gone(const Error& e) {
  return e.code == Errc::failed_precondition && std::string_view(e.message).starts_with(kGonePrefix);
}

}  // namespace keystep::kube
