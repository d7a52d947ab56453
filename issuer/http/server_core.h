#pragma once
// Internal to issuer/http (included only by server.cc and session.cc): the
// state one Server shares with its connections. Pulls in Asio.

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <spdlog/spdlog.h>

#include "issuer/http/router.h"
#include "issuer/http/server.h"

namespace keystep::http {

struct ServerCore;

// Session is one accepted connection. It registers itself with the core
// for its whole life so that stop() can reach it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(ServerCore& core) : core_(core) {}
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // run starts the handshake or the first read. Call once, after register.
  virtual void run() = 0;
  // shutdown_if_idle closes the connection unless a request is being read,
  // handled or answered; an active one closes after its response. Safe
  // from any thread.
  virtual void shutdown_if_idle() = 0;

  void set_registration(std::list<std::weak_ptr<Session>>::iterator it) { registration_ = it; }

 protected:
  ServerCore& core_;

 private:
  std::list<std::weak_ptr<Session>>::iterator registration_;
};

struct ServerCore {
  ServerCore(ServerOptions opts, std::shared_ptr<const Router> r);

  // add_session makes s reachable by stop(); ~Session removes it.
  void add_session(const std::shared_ptr<Session>& s);

  const ServerOptions options;
  const std::shared_ptr<const Router> router;
  const std::shared_ptr<spdlog::logger> log;
  // The context for new connections; null for plain HTTP. Each connection
  // holds its own reference, so a swap never disturbs an established one.
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> tls;
  std::atomic<bool> stopping{false};

  std::mutex sessions_mu;
  std::condition_variable sessions_cv;  // notified when a session ends
  std::list<std::weak_ptr<Session>> sessions;

  // Last member: destroyed first, so handlers it still owns (and the
  // sessions they keep alive) go while the registry above exists.
  boost::asio::io_context ioc;
};

// start_session wraps an accepted socket in a plain or TLS session (tls
// null or not), registers it and runs it.
void start_session(ServerCore& core, boost::asio::ip::tcp::socket socket,
                   std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace keystep::http
