#include "issuer/http/server.h"

#include <vector>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "issuer/common/log.h"
#include "issuer/http/server_core.h"
#include "issuer/http/tls_context.h"

namespace keystep::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

// The core whose pool runs on this thread, so that stop() from a handler
// does not join its own thread.
thread_local const ServerCore* t_worker_core = nullptr;

std::string listen_address(const std::string& host, unsigned short port) {
  bool is_v6 = host.find(':') != std::string::npos;
  return (is_v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// lower_first makes strerror-style messages read like Go's ("address
// already in use").
std::string lower_first(std::string message) {
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z')
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  return message;
}

Result<std::shared_ptr<asio::ssl::context>> make_asio_context(const TlsCredentials& credentials,
                                                              const std::string& client_ca_pem) {
  auto ctx = make_server_tls_context(credentials, client_ca_pem);
  if (!ctx) return tl::unexpected(ctx.error());
  return std::make_shared<asio::ssl::context>(ctx->release());
}

}  // namespace

Session::~Session() {
  {
    std::lock_guard lock(core_.sessions_mu);
    core_.sessions.erase(registration_);
  }
  core_.sessions_cv.notify_all();
}

ServerCore::ServerCore(ServerOptions opts, std::shared_ptr<const Router> r)
    : options(std::move(opts)),
      router(std::move(r)),
      log(common::logger("http")),
      ioc(static_cast<int>(std::max<std::size_t>(1, options.threads))) {}

void ServerCore::add_session(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mu);
  s->set_registration(sessions.insert(sessions.end(), s));
}

class Server::Impl {
 public:
  Impl(ServerOptions options, std::shared_ptr<const Router> router)
      : core(std::move(options), std::move(router)),
        acceptor(asio::make_strand(core.ioc)),
        accept_retry(acceptor.get_executor()),
        credentials_(core.options.tls.value_or(TlsCredentials{})),
        client_ca_pem_(core.options.client_ca_pem) {}

  Status start();
  Status set_tls_credentials(const TlsCredentials& credentials);
  Status set_client_ca(const std::string& client_ca_pem);
  void stop();
  void join();

  ServerCore core;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::atomic<unsigned short> port{0};

 private:
  Status listen();
  void accept();
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);

  // rebuild_tls makes the context of new connections from the current
  // credentials and client CAs (tls_mu_ held).
  Status rebuild_tls(const TlsCredentials& credentials, const std::string& client_ca_pem);

  std::mutex tls_mu_;  // the two below, and swaps of core.tls
  TlsCredentials credentials_;  // of new connections: options.tls until replaced
  std::string client_ca_pem_;   // options.client_ca_pem until replaced
  std::mutex state_mu_;  // start() against stop()
  bool started_ = false;
  std::mutex join_mu_;  // one joiner at a time
  std::vector<std::thread> threads_;
};

Status Server::Impl::start() {
  std::lock_guard lock(state_mu_);
  if (started_) return fail(Errc::failed_precondition, "server already started");
  if (core.stopping) return fail(Errc::failed_precondition, "server was stopped");
  if (!core.router) return fail(Errc::invalid_argument, "server needs a router");
  if (core.options.tls) {
    if (!core.tls.load()) {
      auto ctx = make_asio_context(*core.options.tls, core.options.client_ca_pem);
      if (!ctx) return tl::unexpected(ctx.error());
      core.tls.store(std::move(*ctx));
    }
  } else if (!core.options.client_ca_pem.empty()) {
    return fail(Errc::invalid_argument, "client_ca_pem requires tls");
  }
  if (auto listening = listen(); !listening) return listening;
  accept();
  std::size_t count = std::max<std::size_t>(1, core.options.threads);
  threads_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.emplace_back([this] {
      t_worker_core = &core;
      try {
        core.ioc.run();
      } catch (const std::exception& e) {
        // Handlers catch their own exceptions; this is a bug in the server.
        core.log->critical("http worker stopped by an exception error={}", e.what());
      }
    });
  }
  started_ = true;
  core.log->debug("http server listening address={} tls={}", listen_address(core.options.host, port),
                 core.options.tls.has_value());
  return ok();
}

Status Server::Impl::listen() {
  const ServerOptions& o = core.options;
  auto failed = [&](const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return fail(Errc::unavailable,
                "listen " + listen_address(o.host, o.port) + ": " + lower_first(ec.message()));
  };
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (o.host.empty()) {
    endpoint = tcp::endpoint(tcp::v4(), o.port);
  } else if (!ec) {
    endpoint = tcp::endpoint(address, o.port);
  } else {
    tcp::resolver resolver(core.ioc);
    auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec) return failed(ec);
    if (results.empty()) return failed(asio::error::host_not_found);
    endpoint = results.begin()->endpoint();
  }
  if (acceptor.open(endpoint.protocol(), ec); ec) return failed(ec);
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return failed(ec);
  if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    // "::" serves IPv4 too, as Go's ":9000" does.
    if (acceptor.set_option(asio::ip::v6_only(false), ec); ec) return failed(ec);
  }
  if (acceptor.bind(endpoint, ec); ec) return failed(ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return failed(ec);
  tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return failed(ec);
  port = bound.port();
  return ok();
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(core.ioc),
                        [this](const boost::system::error_code& ec, tcp::socket socket) {
                          on_accept(ec, std::move(socket));
                        });
}

void Server::Impl::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || core.stopping) return;
  if (ec) {
    // Out of descriptors and the like: back off instead of spinning.
    core.log->warn("accept failed error={}", ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](const boost::system::error_code& e) {
      if (!e && !core.stopping) accept();
    });
    return;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  start_session(core, std::move(socket), core.tls.load());
  accept();
}

Status Server::Impl::rebuild_tls(const TlsCredentials& credentials, const std::string& client_ca_pem) {
  auto ctx = make_asio_context(credentials, client_ca_pem);
  if (!ctx) return tl::unexpected(ctx.error());
  core.tls.store(std::move(*ctx));
  return ok();
}

Status Server::Impl::set_tls_credentials(const TlsCredentials& credentials) {
  if (!core.options.tls) {
    return fail(Errc::failed_precondition, "server was configured without tls");
  }
  std::lock_guard lock(tls_mu_);
  if (auto s = rebuild_tls(credentials, client_ca_pem_); !s) return s;
  credentials_ = credentials;
  core.log->debug("tls credentials replaced");
  return ok();
}

Status Server::Impl::set_client_ca(const std::string& client_ca_pem) {
  if (!core.options.tls || core.options.client_ca_pem.empty()) {
    return fail(Errc::failed_precondition, "server was configured without client certificate verification");
  }
  if (client_ca_pem.empty()) return fail(Errc::invalid_argument, "client CAs: no PEM certificate found");
  std::lock_guard lock(tls_mu_);
  if (auto s = rebuild_tls(credentials_, client_ca_pem); !s) return s;
  client_ca_pem_ = client_ca_pem;
  core.log->debug("client CAs replaced");
  return ok();
}

void Server::Impl::stop() {
  {
    std::lock_guard lock(state_mu_);
    if (!started_) {
      core.stopping = true;
      return;
    }
  }
  if (!core.stopping.exchange(true)) {
    asio::post(acceptor.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      accept_retry.cancel();
    });
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(core.sessions_mu);
      for (const auto& weak : core.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (const auto& s : live) s->shutdown_if_idle();
    core.log->debug("http server stopping open_connections={}", live.size());
  }
  if (t_worker_core == &core) return;  // a handler called stop(): the pool drains by itself
  {
    std::unique_lock lock(core.sessions_mu);
    if (!core.sessions_cv.wait_for(lock, core.options.shutdown_timeout,
                                   [this] { return core.sessions.empty(); })) {
      core.log->warn("http shutdown timed out, dropping connections open_connections={}",
                     core.sessions.size());
      core.ioc.stop();
    }
  }
  join();
}

void Server::Impl::join() {
  if (t_worker_core == &core) return;
  std::lock_guard lock(join_mu_);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() {
  stop();
  impl_->join();
}

Status Server::start() { return impl_->start(); }
unsigned short Server::port() const { return impl_->port; }
Status Server::set_client_ca(const std::string& client_ca_pem) { return impl_->set_client_ca(client_ca_pem); }

Status Server::set_tls_credentials(const TlsCredentials& credentials) {
  return impl_->set_tls_credentials(credentials);
}
void Server::stop() { impl_->stop(); }
void Server::wait() { impl_->join(); }

}  // namespace keystep::http
