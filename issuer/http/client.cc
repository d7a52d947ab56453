#include "issuer/http/client.h"

#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "issuer/http/beast_util.h"
#include "issuer/http/tls_context.h"
#include "issuer/http/url.h"

namespace keystep::http {
namespace {

using namespace detail;  // NOLINT: Beast/Asio aliases

// run_op starts one asynchronous operation through start(handler) and
// drives ioc until it completes; timeouts come from the tcp_stream.
template <class Start>
beast::error_code run_op(asio::io_context& ioc, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  while (!result && ioc.run_one() != 0) {
  }
  return result.value_or(asio::error::operation_aborted);
}

std::string describe(const beast::error_code& ec, std::chrono::seconds timeout) {
  if (ec == beast::error::timeout)
    return "timed out after " + std::to_string(timeout.count()) + "s";
  std::string message = ec.message();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') {
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  }
  return message;
}

bool is_tls_error(const beast::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ec != asio::ssl::error::stream_truncated;
}

struct Call {
  const ClientOptions& options;
  const Url& url;
  asio::io_context& ioc;
  Clock::time_point deadline;

  tl::unexpected<Error> io_error(std::string_view what, const beast::error_code& ec) const {
    Errc code = is_tls_error(ec) ? Errc::permission_denied : Errc::unavailable;
    return fail(code,
                std::string(what) + " " + url.authority() + ": " + describe(ec, options.timeout));
  }

  Result<tcp::resolver::results_type> resolve() const {
    if (url.is_ip) {
      auto address = asio::ip::make_address(url.host);
      return tcp::resolver::results_type::create(tcp::endpoint(address, url.port), url.host,
                                                 std::to_string(url.port));
    }
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc, deadline);
    timer.async_wait([&resolver](const beast::error_code& ec) {
      if (!ec) resolver.cancel();
    });
    tcp::resolver::results_type results;
    beast::error_code ec = run_op(ioc, [&](auto handler) {
      resolver.async_resolve(
          url.host, std::to_string(url.port),
          [&, handler](const beast::error_code& e, tcp::resolver::results_type r) mutable {
            results = std::move(r);
            timer.cancel();
            handler(e);
          });
    });
    if (ec == asio::error::operation_aborted) ec = beast::error::timeout;
    if (ec) return io_error("resolve", ec);
    return results;
  }

  template <class Stream>
  Result<ClientResponse> exchange(Stream& stream, const tcp::resolver::results_type& endpoints,
                                  bh::request<bh::string_body>& req) const {
    constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;
    beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
    tcp.expires_at(deadline);
    beast::error_code ec = run_op(ioc, [&](auto handler) {
      tcp.async_connect(endpoints, [handler](const beast::error_code& e,
                                             const tcp::endpoint&) mutable { handler(e); });
    });
    if (ec) return io_error("connect", ec);

    ClientResponse out;
    if constexpr (kIsTls) {
      SSL* ssl = stream.native_handle();
      if (!url.is_ip) SSL_set_tlsext_host_name(ssl, url.host.c_str());
      if (!options.insecure) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);  // borrowed
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int set = url.is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                            : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
        if (set != 1) return fail(Errc::internal, "setting the expected tls peer name");
      }
      ec = run_op(ioc, [&](auto handler) {
        stream.async_handshake(asio::ssl::stream_base::client, handler);
      });
      if (ec) {
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
          return fail(Errc::permission_denied, "tls handshake with " + url.authority() +
                                                   " failed: certificate verify failed: " +
                                                   X509_verify_cert_error_string(verify));
        }
        Errc code = is_tls_error(ec) ? Errc::permission_denied : Errc::unavailable;
        return fail(code, "tls handshake with " + url.authority() +
                              " failed: " + describe(ec, options.timeout));
      }
      out.peer_chain_der = peer_chain_der(ssl);
    }

    ec = run_op(ioc, [&](auto handler) { bh::async_write(stream, req, handler); });
    if (ec) return io_error("send request to", ec);

    beast::flat_buffer buffer;
    bh::response_parser<bh::string_body> parser;
    parser.body_limit(kMaxClientResponseBytes);
    parser.header_limit(64 * 1024);
    if (req.method() == bh::verb::head) parser.skip(true);
    ec = run_op(ioc, [&](auto handler) { bh::async_read(stream, buffer, parser, handler); });
    if (ec) return io_error("read response from", ec);

    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    }
    out.content_type = out.header("Content-Type");
    out.body = std::move(res.body());
    beast::error_code ignored;
    tcp.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return out;
  }
};

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  const std::string* value = find_header(headers, name);
  return value != nullptr ? *value : std::string();
}

Result<ClientResponse> request(const ClientOptions& options, std::string_view method,
                               std::string_view url_text, std::string_view body,
                               const HeaderList& headers) {
  auto url = parse_url(url_text);
  if (!url) return tl::unexpected(url.error());
  if (method.empty() || method.find_first_of(" \t\r\n") != std::string_view::npos) {
    return fail(Errc::invalid_argument, "invalid http method");
  }

  bh::request<bh::string_body> req;
  bh::verb verb = bh::string_to_verb(bsv(method));
  if (verb != bh::verb::unknown) {
    req.method(verb);
  } else {
    req.method_string(bsv(method));
  }
  req.target(url->target);
  req.version(11);
  req.set(bh::field::host, url->host_header());
  req.set(bh::field::user_agent, options.user_agent);
  for (const auto& [name, value] : headers) {
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return fail(Errc::invalid_argument, "invalid header " + name);
    }
    if (iequals(name, "Host") || iequals(name, "Content-Length") || iequals(name, "Connection"))
      continue;
    req.set(name, value);
  }
  if (!body.empty() || verb == bh::verb::post || verb == bh::verb::put || verb == bh::verb::patch) {
    req.body().assign(body);
    req.prepare_payload();
  }
  req.keep_alive(false);

  asio::io_context ioc(1);
  Call call{options, *url, ioc, Clock::now() + options.timeout};
  auto endpoints = call.resolve();
  if (!endpoints) return tl::unexpected(endpoints.error());

  if (!url->is_https()) {
    beast::tcp_stream stream(ioc);
    return call.exchange(stream, *endpoints, req);
  }
  if (!options.insecure && options.root_pem.empty()) {
    return fail(Errc::invalid_argument, "https needs root_pem (or insecure for a root fetch)");
  }
  std::optional<TlsCredentials> identity;
  if (!options.client_chain_pem.empty() || !options.client_key_pem.empty()) {
    identity = TlsCredentials{options.client_chain_pem, options.client_key_pem};
  }
  auto ctx = make_client_tls_context(options.root_pem, options.insecure, identity);
  if (!ctx) return tl::unexpected(ctx.error());
  asio::ssl::context asio_ctx(ctx->release());
  beast::ssl_stream<beast::tcp_stream> stream(ioc, asio_ctx);
  return call.exchange(stream, *endpoints, req);
}

}  // namespace keystep::http
