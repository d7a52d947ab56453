#pragma once
// Error vocabulary of Keystep: expected failures are values (Result<T>),
// exceptions are reserved for bugs and for libraries that throw.

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace keystep {

enum class Errc {
  invalid_argument,     // the caller sent something malformed or unsupported
  unauthenticated,      // no valid credential (token, client certificate)
  permission_denied,    // authenticated, but policy forbids it
  not_found,
  already_exists,
  failed_precondition,  // state of the system forbids it (expired CA, ...)
  unavailable,          // transient: retry may succeed
  unimplemented,        // a valid request this CA does not support
  internal,
};

struct Error {
  Errc code;
  std::string message;  // safe to show a user; never secret material
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// ok() is the successful Status.
[[nodiscard]] inline Status ok() { return {}; }

[[nodiscard]] std::string_view to_string(Errc code);

// with_context prefixes an error message: "loading root: <message>".
[[nodiscard]] inline Error with_context(Error e, std::string_view context) {
  e.message = std::string(context) + ": " + e.message;
  return e;
}

}  // namespace keystep
