// HTTP/1.1 connections of a Server: TLS handshake, keep-alive request loop,
// error responses, graceful close. One strand per connection serialises
// everything a session does, so a session needs no locks.

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "issuer/http/request_id.h"
#include "issuer/http/server_core.h"
#include "issuer/http/beast_util.h"
#include "issuer/http/tls_context.h"
#include "issuer/http/url.h"

namespace keystep::http {
namespace {

using namespace detail;  // NOLINT: Beast/Asio aliases

constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr std::chrono::seconds kHandshakeTimeout{10};
// After a response that closes the connection, how long to wait for the
// peer's close before dropping it (keeps unread request bytes from turning
// into a TCP reset that would destroy the response in flight).
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kMaxLingerBytes = 256 * 1024;

constexpr const char* kInternalErrorMessage =
    "The certificate authority encountered an Internal Server Error. Please see the certificate "
    "authority logs for more info.";

std::string format_size(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string format_endpoint(const tcp::endpoint& ep) {
  std::string address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

bool is_quiet_close(const beast::error_code& ec) {
  return ec == bh::error::end_of_stream || ec == bh::error::partial_message ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated;
}

// strip_absolute_form turns "http://host/p?q" into "/p?q"; origin-form
// targets pass unchanged.
std::string_view strip_absolute_form(std::string_view target) {
  if (target.empty() || target.front() == '/') return target;
  std::size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  std::size_t path = target.find_first_of("/?", scheme + 3);
  if (path == std::string_view::npos) return "/";
  return target.substr(path);
}

template <class Stream>
class HttpSession final : public Session {
 public:
  static constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

  HttpSession(ServerCore& core, tcp::socket&& socket,
              std::shared_ptr<asio::ssl::context> tls) requires kIsTls
      : Session(core),
        tls_(std::move(tls)),
        stream_(std::move(socket), *tls_) {}

  HttpSession(ServerCore& core, tcp::socket&& socket) requires(!kIsTls)
      : Session(core), stream_(std::move(socket)) {}

  void run() override {
    asio::dispatch(stream_.get_executor(), [self = self()] { self->on_run(); });
  }

  void shutdown_if_idle() override {
    asio::dispatch(stream_.get_executor(), [self = self()] {
      bool idle_read = self->phase_ == Phase::reading && self->buffer_.size() == 0 &&
                       (!self->parser_ || !self->parser_->got_some());
      if (self->phase_ == Phase::handshake || self->phase_ == Phase::closing || idle_read) {
        self->close();
      }
    });
  }

 private:
  enum class Phase { starting, handshake, reading, processing, writing, closing, closed };

  std::shared_ptr<HttpSession> self() {
    return std::static_pointer_cast<HttpSession>(shared_from_this());
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // log_path is the raw path: the parser admits no control characters
  // there, while the decoded path could carry "%0a" into the log.
  std::string_view log_path() const {
    std::string_view target = req_.target;
    return target.substr(0, target.find('?'));
  }

  void on_run() {
    beast::error_code ec;
    tcp::endpoint remote = lowest().socket().remote_endpoint(ec);
    if (ec || core_.stopping) return close();
    req_.remote_address = format_endpoint(remote);
    req_.is_tls = kIsTls;
    if constexpr (kIsTls) {
      phase_ = Phase::handshake;
      lowest().expires_after(
          std::min<Clock::duration>(kHandshakeTimeout, core_.options.idle_timeout));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = self()](beast::error_code e) { self->on_handshake(e); });
    } else {
      read_request();
    }
  }

  void on_handshake(beast::error_code ec) {
    if constexpr (kIsTls) {
      if (ec) {
        core_.log->debug("tls handshake failed remote={} error={}", req_.remote_address,
                         ec.message());
        return close();
      }
      peer_chain_ = peer_chain_der(stream_.native_handle());
      peer_verified_ =
          !peer_chain_.empty() && SSL_get_verify_result(stream_.native_handle()) == X509_V_OK;
    }
    read_request();
  }

  void read_request() {
    if (core_.stopping) return close();
    phase_ = Phase::reading;
    parser_.emplace();
    parser_->body_limit(core_.options.max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    lowest().expires_after(core_.options.idle_timeout);
    bh::async_read_header(
        stream_, buffer_, *parser_,
        [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle_request();
    const auto& head = parser_->get();
    if (head.version() == 11 && iequals(sv(head[bh::field::expect]), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = self()](beast::error_code e, std::size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    bh::async_read(stream_, buffer_, *parser_, [self = self()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      self->handle_request();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bh::error::body_limit) {
      return send_error(
          Response::error(413, "The request could not be completed: request body larger than " +
                              format_size(core_.options.max_body_bytes) + "."));
    }
    if (ec == bh::error::header_limit) {
      return send_error(Response::text(431, "431 Request Header Fields Too Large"));
    }
    if (ec.category() == bh::make_error_code(bh::error::bad_target).category() &&
        !is_quiet_close(ec)) {
      return send_error(Response::text(400, "400 Bad Request"));
    }
    if (!is_quiet_close(ec)) {
      core_.log->debug("connection read failed remote={} error={}", req_.remote_address,
                       ec.message());
    }
    close();
  }

  // send_error answers a request that could not be read, then closes.
  void send_error(Response response) {
    start_ = Clock::now();
    if (phase_ != Phase::processing) {  // nothing parsed: log placeholders
      req_.method = "-";
      req_.target = "-";
    }
    req_.request_id.clear();
    if (parser_) {  // fields read so far, even when the head was refused
      for (const char* name : {"X-Request-Id", "X-Smallstep-Id"}) {
        auto it = parser_->get().find(name);
        if (it != parser_->get().end() && !it->value().empty()) {
          req_.request_id.assign(sv(it->value()));
          break;
        }
      }
    }
    if (req_.request_id.empty()) req_.request_id = new_uuid_v4();
    write_response(std::move(response), 11, false, false);
  }

  void handle_request() {
    phase_ = Phase::processing;
    start_ = Clock::now();
    auto& msg = parser_->get();
    req_.method.assign(sv(msg.method_string()));
    req_.target.assign(sv(msg.target()));
    std::string_view target = strip_absolute_form(req_.target);
    std::size_t question = target.find('?');
    req_.query.assign(question == std::string_view::npos ? std::string_view()
                                                         : target.substr(question + 1));
    req_.path.clear();
    if (target.empty() || !percent_decode(target.substr(0, question), req_.path, false)) {
      return send_error(Response::text(400, "400 Bad Request"));
    }
    std::size_t n = 0;
    for (const auto& field : msg) {
      if (n == req_.headers.size()) req_.headers.emplace_back();
      req_.headers[n].first.assign(sv(field.name_string()));
      req_.headers[n].second.assign(sv(field.value()));
      ++n;
    }
    req_.headers.resize(n);
    req_.body = std::move(msg.body());
    req_.peer_chain_der = peer_chain_;
    req_.peer_verified = peer_verified_;
    const std::string* id = find_header(req_.headers, "X-Request-Id");
    if (id == nullptr || id->empty()) id = find_header(req_.headers, "X-Smallstep-Id");
    if (id != nullptr && !id->empty()) {
      req_.request_id = *id;
    } else {
      req_.request_id = new_uuid_v4();
    }

    Response response;
    try {
      response = core_.router->dispatch(req_);
    } catch (const std::exception& e) {
      core_.log->error("handler failed method={} path={} request_id={} error={}", req_.method,
                       log_path(), req_.request_id, e.what());
      response = Response::error(500, kInternalErrorMessage);
    } catch (...) {
      core_.log->error("handler failed method={} path={} request_id={} error=unknown exception",
                       req_.method, log_path(), req_.request_id);
      response = Response::error(500, kInternalErrorMessage);
    }
    req_.body.clear();
    bool keep_alive = msg.keep_alive() && !core_.stopping;
    write_response(std::move(response), msg.version(), keep_alive, req_.method == "HEAD");
  }

  void write_response(Response response, unsigned version, bool keep_alive, bool is_head) {
    phase_ = Phase::writing;
    int status = response.status;
    if (status < 100 || status > 999) status = 500;
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(status));
    res_.set(bh::field::server, "keystep");
    res_.set("X-Request-Id", req_.request_id);
    std::string_view head_length;
    for (const auto& [name, value] : response.headers) {
      if (iequals(name, "Content-Length")) {
        head_length = value;
        continue;
      }
      if (iequals(name, "Connection") || iequals(name, "Transfer-Encoding")) continue;
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        core_.log->warn("dropped response header with a line break name={} request_id={}", name,
                        req_.request_id);
        continue;
      }
      res_.insert(name, value);
    }
    bool bodiless = status < 200 || status == 204 || status == 304;
    if (is_head) {
      if (!head_length.empty()) res_.set(bh::field::content_length, bsv(head_length));
    } else if (!bodiless) {
      res_.body() = std::move(response.body);
      res_.content_length(res_.body().size());
    }
    res_.keep_alive(keep_alive);
    lowest().expires_after(core_.options.idle_timeout);
    bh::async_write(stream_, res_,
                    [self = self()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (core_.log->should_log(spdlog::level::debug)) {
      auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start_);
      core_.log->debug(
          "request served method={} path={} status={} duration_ms={:.3f} request_id={}",
          req_.method, log_path(), res_.result_int(), elapsed.count(), req_.request_id);
    }
    bool keep_alive = res_.keep_alive();
    res_.body().clear();
    if (ec) return close();
    if (!keep_alive) return graceful_close();
    read_request();
  }

  void graceful_close() {
    phase_ = Phase::closing;
    if (core_.stopping) return close();
    lowest().expires_after(kLingerTimeout);
    if constexpr (kIsTls) {
      stream_.async_shutdown([self = self()](beast::error_code) { self->close(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      buffer_.clear();
      drain(0);
    }
  }

  // drain discards what the peer still sends until it closes.
  void drain(std::size_t drained) {
    if (drained > kMaxLingerBytes) return close();
    lowest().async_read_some(buffer_.prepare(4096),
                             [self = self(), drained](beast::error_code ec, std::size_t n) {
                               if (ec) return self->close();
                               self->drain(drained + n);
                             });
  }

  void close() {
    phase_ = Phase::closed;
    lowest().close();
  }

  std::shared_ptr<asio::ssl::context> tls_;  // before stream_: outlives it
  Stream stream_;
  Phase phase_ = Phase::starting;
  beast::flat_buffer buffer_;
  std::optional<bh::request_parser<bh::string_body>> parser_;
  bh::response<bh::string_body> res_;
  Request req_;  // reused across the connection's requests to keep capacity
  std::vector<std::string> peer_chain_;
  bool peer_verified_ = false;
  Clock::time_point start_;
};

}  // namespace

void start_session(ServerCore& core, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls) {
  std::shared_ptr<Session> session;
  if (tls) {
    session = std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
        core, std::move(socket), std::move(tls));
  } else {
    session = std::make_shared<HttpSession<beast::tcp_stream>>(core, std::move(socket));
  }
  core.add_session(session);
  session->run();
}

}  // namespace keystep::http
