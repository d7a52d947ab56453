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
// Observer sees every request after its response is made (metrics, audit).
using Observer = std::function<void(const Request&, const Response&)>;

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // add registers h for method and pattern. A last segment "{name...}"
  // matches the rest of the path, slashes included. A malformed pattern, a second
  // handler for the same method and pattern, or one pattern shape with two
  // different parameter names throws std::invalid_argument: that is a bug
  // in the caller, found at start-up.
  void add(std::string method, std::string pattern, Handler h);

  // dispatch fills req.params and calls the matching handler. HEAD uses the
  // GET handler (unless HEAD has its own) and drops the body but keeps its
  // Content-Length. An unknown path is 404 "404 page not found\n" (Go's
  // text); a known path without this method is 405 with an Allow header.
  // Exceptions from the handler propagate.
  // It sets req.route to the matched pattern ("" when none matched) and
  // calls the observer, if any, with the response.
  [[nodiscard]] Response dispatch(Request& req) const;

  // set_observer installs the observer; call it before serving.
  void set_observer(Observer observer);

 private:
  struct Node;
  [[nodiscard]] Response route(Request& req) const;
  std::unique_ptr<Node> root_;
  Observer observer_;
};

}  // namespace keystep::http
