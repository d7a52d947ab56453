// The server seen through raw Beast streams: keep-alive, limits, malformed
// input and shutdown, which the one-shot client cannot show.

#include <future>
#include <thread>

#include <boost/asio/read_until.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include "issuer/http/client.h"
#include "issuer/http/server.h"
#include "issuer/http/testing_server.h"

using namespace keystep;
using namespace keystep::http;
using namespace keystep::http::testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint local(unsigned short port) { return {asio::ip::make_address("127.0.0.1"), port}; }

// TlsConnection is one verified TLS connection driven synchronously.
struct TlsConnection {
  TlsConnection(unsigned short port, const std::string& root_pem) {
    ctx.add_certificate_authority(asio::buffer(root_pem));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    stream.next_layer().connect(local(port));
    stream.handshake(asio::ssl::stream_base::client);
  }
  asio::io_context ioc;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  beast::flat_buffer buffer;
};

struct PlainConnection {
  explicit PlainConnection(unsigned short port) { stream.connect(local(port)); }
  void send(const std::string& raw) { asio::write(stream, asio::buffer(raw)); }
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

bh::request<bh::string_body> get(const std::string& target) {
  bh::request<bh::string_body> req{bh::verb::get, target, 11};
  req.set(bh::field::host, "127.0.0.1");
  return req;
}

template <class Stream>
bh::response<bh::string_body> read_response(Stream& stream, beast::flat_buffer& buffer,
                                            bool head = false) {
  bh::response_parser<bh::string_body> parser;
  parser.skip(head);
  bh::read(stream, buffer, parser);
  return parser.release();
}

// read_fails reads once more and returns the error (none if data came).
template <class Stream>
beast::error_code read_fails(Stream& stream, beast::flat_buffer& buffer) {
  beast::error_code ec;
  bh::response<bh::string_body> res;
  bh::read(stream, buffer, res, ec);
  return ec;
}

}  // namespace

TEST_CASE("server keeps a TLS connection alive across requests", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  TlsConnection conn(server.port(), pki.root.cert_pem());
  for (int i = 0; i < 3; ++i) {
    bh::write(conn.stream, get("/health"));
    auto res = read_response(conn.stream, conn.buffer);
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "{\"status\":\"ok\"}\n");
    CHECK(res.keep_alive());
  }
}

TEST_CASE("server answers pipelined requests in order", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send(
      "GET /id HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
      "GET /id HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n");
  CHECK(read_response(conn.stream, conn.buffer).body() == "one");
  CHECK(read_response(conn.stream, conn.buffer).body() == "two");
}

TEST_CASE("server refuses an oversized body with 413 before reading it and closes", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  // Only the head is sent: the answer must not wait for the 2 MiB.
  conn.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nX-Request-Id: big\r\nContent-Length: 2097152\r\n\r\n");
  auto res = read_response(conn.stream, conn.buffer);
  CHECK(res.result_int() == 413);
  CHECK(res[bh::field::content_type] == "application/json");
  CHECK(res["X-Request-Id"] == "big");
  CHECK(res.body() ==
        "{\"status\":413,\"message\":\"The request could not be completed: request body larger "
        "than 1 MiB.\"}\n");
  CHECK_FALSE(res.keep_alive());
  CHECK(read_fails(conn.stream, conn.buffer) == bh::error::end_of_stream);
}

TEST_CASE("server refuses an oversized chunked body with 413", "[http]") {
  ServerOptions options;
  options.max_body_bytes = 16;
  Server server(options, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
            std::string(32, 'a') + "\r\n0\r\n\r\n");
  auto res = read_response(conn.stream, conn.buffer);
  CHECK(res.result_int() == 413);
  CHECK(res.body() ==
        "{\"status\":413,\"message\":\"The request could not be completed: request body larger "
        "than 16 bytes.\"}\n");
}

TEST_CASE("server answers malformed HTTP with 400 and closes", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send("GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  auto res = read_response(conn.stream, conn.buffer);
  CHECK(res.result_int() == 400);
  CHECK_FALSE(res["X-Request-Id"].empty());
  CHECK_FALSE(res.keep_alive());
  CHECK(read_fails(conn.stream, conn.buffer) == bh::error::end_of_stream);
}

TEST_CASE("server answers a badly escaped path with 400", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send("GET /root/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(read_response(conn.stream, conn.buffer).result_int() == 400);
}

TEST_CASE("server sends HEAD responses with the GET length and no body", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send(
      "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /id HTTP/1.1\r\nHost: x\r\nX-Request-Id: "
      "after\r\n\r\n");
  auto head = read_response(conn.stream, conn.buffer, true);
  CHECK(head.result_int() == 200);
  CHECK(head[bh::field::content_length] == "16");
  // Had the server sent a body, it would be read here instead of the next answer.
  CHECK(read_response(conn.stream, conn.buffer).body() == "after");
}

TEST_CASE("server sends 100 Continue to a client that expects it", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  conn.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  std::string interim;
  std::size_t n = asio::read_until(conn.stream.socket(), asio::dynamic_buffer(interim), "\r\n\r\n");
  CHECK(interim.substr(0, n) == "HTTP/1.1 100 Continue\r\n\r\n");
  conn.send("hello");
  auto res = read_response(conn.stream, conn.buffer);
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "hello");
}

TEST_CASE("server stop closes an idle keep-alive connection and returns", "[http]") {
  Pki pki;
  ServerOptions options = tls_options(pki);
  // Were the idle connection not closed, stop() would wait out these and the
  // test would hang instead of pass.
  options.idle_timeout = std::chrono::hours(1);
  options.shutdown_timeout = std::chrono::hours(1);
  Server server(options, test_router());
  REQUIRE(server.start());
  TlsConnection conn(server.port(), pki.root.cert_pem());
  bh::write(conn.stream, get("/health"));
  CHECK(read_response(conn.stream, conn.buffer).result_int() == 200);

  server.stop();
  CHECK(read_fails(conn.stream, conn.buffer));
  server.stop();  // idempotent
  server.wait();
}

TEST_CASE("server stop lets an in-flight request finish", "[http]") {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto router = test_router();
  router->add("GET", "/slow", [&entered, released](const Request&) {
    entered.set_value();
    released.wait();
    return Response::text(200, "done");
  });
  ServerOptions options;
  options.shutdown_timeout = std::chrono::hours(1);
  Server server(options, router);
  REQUIRE(server.start());
  PlainConnection conn(server.port());
  bh::write(conn.stream, get("/slow"));
  entered.get_future().wait();

  std::thread stopper([&server] { server.stop(); });
  release.set_value();
  auto res = read_response(conn.stream, conn.buffer);
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "done");
  CHECK(read_fails(conn.stream, conn.buffer) == bh::error::end_of_stream);
  stopper.join();
}

TEST_CASE("set_tls_credentials leaves established connections on their certificate", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  TlsConnection old_conn(server.port(), pki.root.cert_pem());

  auto renewed =
      make_cert(CertSpec{"keystep test", {}, {"127.0.0.1"}, false, false, 200}, &pki.root);
  REQUIRE(server.set_tls_credentials({renewed.cert_pem(), renewed.key_pem()}));

  bh::write(old_conn.stream, get("/health"));
  CHECK(read_response(old_conn.stream, old_conn.buffer).result_int() == 200);
  X509* old_leaf = SSL_get0_peer_certificate(old_conn.stream.native_handle());
  CHECK(ASN1_INTEGER_get(X509_get0_serialNumber(old_leaf)) == 100);

  TlsConnection new_conn(server.port(), pki.root.cert_pem());
  X509* new_leaf = SSL_get0_peer_certificate(new_conn.stream.native_handle());
  CHECK(ASN1_INTEGER_get(X509_get0_serialNumber(new_leaf)) == 200);
}
