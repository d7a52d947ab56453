#pragma once
// Router maps a method and a path to a handler. Build it once with add(),
// then share it read-only: dispatch() is const and safe to call from many
// threads at once.
//
// Patterns are "/"-separated segments, each a literal or "{name}" (one
// non-empty path segment, exposed as Request::params["name"]). A literal
// segment wins over a parameter at the same position. Paths match exactly:
// "/roots/" is not "/roots".

#include <functional>
#include <memory>
#include <string>

#include "issuer/http/message.h"

namespace keystep::http {

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // add registers h for method and pattern. A malformed pattern, a second
  // handler for the same method and pattern, or one pattern shape with two
  // different parameter names throws std::invalid_argument: that is a bug
  // in the caller, found at start-up.
  void add(std::string method, std::string pattern, Handler h);

  // dispatch fills req.params and calls the matching handler. HEAD uses the
  // GET handler (unless HEAD has its own) and drops the body but keeps its
  // Content-Length. An unknown path is 404 "404 page not found\n" (Go's
  // text); a known path without this method is 405 with an Allow header.
  // Exceptions from the handler propagate.
  [[nodiscard]] Response dispatch(Request& req) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace keystep::http
