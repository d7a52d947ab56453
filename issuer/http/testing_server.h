#pragma once
// Test-only (header-only): a throwaway PKI and a router exercising what the
// server hands to handlers, shared by the server and client tests.

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "issuer/http/router.h"
#include "issuer/http/server.h"
#include "issuer/http/testing_pki.h"

namespace keystep::http::testing {

// Pki is a root and a server leaf for 127.0.0.1 and localhost.
struct Pki {
  TestCert root = make_root("Test Root");
  TestCert leaf =
      make_cert(CertSpec{"keystep test", {"localhost"}, {"127.0.0.1"}, false, false, 100}, &root);

  [[nodiscard]] TlsCredentials credentials() const { return {leaf.cert_pem(), leaf.key_pem()}; }
};

// test_router serves:
//   GET  /health  {"status":"ok"}
//   POST /echo    the request body, as text
//   GET  /id      Request::request_id
//   GET  /peer    the client leaf DER (or ""), X-Peer-Count, X-Peer-Verified, X-Tls
//   GET  /boom    throws
inline std::shared_ptr<Router> test_router() {
  auto router = std::make_shared<Router>();
  router->add("GET", "/health", [](const Request&) {
    return Response::json(200, {{"status", "ok"}});
  });
  router->add("POST", "/echo", [](const Request& req) { return Response::text(200, req.body); });
  router->add("GET", "/id", [](const Request& req) { return Response::text(200, req.request_id); });
  router->add("GET", "/peer", [](const Request& req) {
    Response r = Response::text(200, req.peer_chain_der.empty() ? "" : req.peer_chain_der.front(),
                                "application/pkix-cert");
    r.set_header("X-Peer-Count", std::to_string(req.peer_chain_der.size()));
    r.set_header("X-Peer-Verified", req.peer_verified ? "true" : "false");
    r.set_header("X-Tls", req.is_tls ? "true" : "false");
    if (req.peer_chain_der.size() > 1)
      r.set_header("X-Peer-Second-Size", std::to_string(req.peer_chain_der[1].size()));
    return r;
  });
  router->add("GET", "/boom",
              [](const Request&) -> Response { throw std::runtime_error("handler bug"); });
  return router;
}

inline ServerOptions tls_options(const Pki& pki) {
  ServerOptions o;
  o.threads = 2;
  o.tls = pki.credentials();
  return o;
}

inline std::string url(const Server& server, const std::string& path, bool tls = true) {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server.port()) +
         path;
}

}  // namespace keystep::http::testing
