#pragma once
// Server is Keystep's HTTP/1.1 listener: Boost.Beast over Asio with
// OpenSSL, keep-alive, one io_context run by a fixed pool of threads (no
// thread per request or per connection). Beast and Asio stay behind the
// pimpl so that this header is cheap to include.
//
// Every response carries "Server: keystep" and X-Request-Id (the request's
// X-Request-Id, else X-Smallstep-Id, else a new UUIDv4). A body larger than
// max_body_bytes is refused with 413 before it is read; malformed HTTP is
// 400; both close the connection. A handler that throws gets a 500 with
// step-ca's generic message, logged once. Handlers run on the pool threads
// and must be thread-safe; the Router is shared read-only.
//
// Thread safety: start() once, then port(), set_tls_credentials(), stop()
// and wait() may be called from any thread, including a signal-handling
// thread. stop() from inside a handler does not join (the pool winds down
// by itself; wait() or the destructor joins).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "issuer/common/error.h"
#include "issuer/http/router.h"
#include "issuer/http/tls_credentials.h"

namespace keystep::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // IP or name to bind; "" or "0.0.0.0" for all IPv4, "::" for all
  unsigned short port = 0;         // 0 = ephemeral, see Server::port()
  std::size_t threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  std::size_t max_body_bytes = std::size_t{1} << 20;  // 1 MiB
  // Bounds the wait for the next request on a keep-alive connection, the
  // reading of one request, and the writing of one response.
  std::chrono::seconds idle_timeout{60};
  // stop() waits this long for in-flight requests, then drops them.
  std::chrono::seconds shutdown_timeout{10};
  std::optional<TlsCredentials> tls;  // none = plain HTTP
  // If non-empty (requires tls): request a client certificate, never
  // require one, and fail the handshake when a presented one does not
  // verify against these CAs. The chain reaches Request::peer_chain_der.
  std::string client_ca_pem;
};

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // start binds, listens and starts the worker threads. Bad TLS material is
  // invalid_argument; a bind or listen failure is unavailable ("listen
  // 127.0.0.1:9000: address already in use"); a second start() is
  // failed_precondition.
  [[nodiscard]] Status start();

  // port is the bound port (useful with port 0); 0 before start().
  [[nodiscard]] unsigned short port() const;

  // set_tls_credentials swaps the certificate for new connections;
  // established ones keep theirs. A malformed pair or a key that does not
  // match the leaf is invalid_argument and changes nothing; a plain-HTTP
  // server is failed_precondition.
  [[nodiscard]] Status set_tls_credentials(const TlsCredentials& credentials);

  // set_client_ca replaces the CAs a client certificate may chain to, for
  // new connections (the certificate stays). Only for a server started with
  // client_ca_pem (failed_precondition otherwise); bad PEM is
  // invalid_argument and changes nothing.
  [[nodiscard]] Status set_client_ca(const std::string& client_ca_pem);

  // stop stops accepting, closes idle connections, lets in-flight requests
  // finish (up to shutdown_timeout) and joins the threads. Idempotent.
  void stop();

  // wait blocks until the server has stopped and its threads are joined.
  void wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keystep::http
