// Server and client together, over real sockets on 127.0.0.1 (port 0).

#include <regex>

#include <catch2/catch.hpp>

#include "issuer/http/client.h"
#include "issuer/http/server.h"
#include "issuer/http/testing_server.h"

using namespace keystep;
using namespace keystep::http;
using namespace keystep::http::testing;

namespace {

ClientOptions trusting(const TestCert& root) {
  ClientOptions o;
  o.root_pem = root.cert_pem();
  return o;
}

}  // namespace

TEST_CASE("client and server round trip over TLS verified against the root and IP SAN", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  REQUIRE(server.port() != 0);

  auto res = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "{\"status\":\"ok\"}\n");
  CHECK(res->content_type == "application/json");
  CHECK(res->header("server") == "keystep");
  REQUIRE(res->peer_chain_der.size() == 1);
  CHECK(res->peer_chain_der[0] == pki.leaf.der());
}

TEST_CASE("client verifies a DNS name and the server answers on the 1.0 path too", "[http]") {
  Pki pki;
  auto router = test_router();
  router->add("GET", "/1.0/health", [](const Request&) {
    return Response::json(200, {{"status", "ok"}});
  });
  Server server(tls_options(pki), router);
  REQUIRE(server.start());
  auto res = request(trusting(pki.root), "GET",
                     "https://localhost:" + std::to_string(server.port()) + "/1.0/health");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("client posts a body and reads it back", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  std::string body(200 * 1024, 'x');
  auto res = request(trusting(pki.root), "POST", url(server, "/echo"), body,
                     {{"Content-Type", "application/json"}});
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == body);
}

TEST_CASE("client rejects a server certificate from another root", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  auto other_root = make_root("Other Root");
  auto res = request(trusting(other_root), "GET", url(server, "/health"));
  REQUIRE_FALSE(res);
  CHECK(res.error().code == Errc::permission_denied);
  CHECK(res.error().message == "tls handshake with 127.0.0.1:" + std::to_string(server.port()) +
                                   " failed: certificate verify failed: unable to get local issuer "
                                   "certificate");
}

TEST_CASE("client rejects a server certificate that does not name the host", "[http]") {
  Pki pki;
  auto wrong = make_cert(CertSpec{"elsewhere", {"ca.example.test"}, {"10.9.8.7"}, false, false, 7},
                         &pki.root);
  ServerOptions options = tls_options(pki);
  options.tls = TlsCredentials{wrong.cert_pem(), wrong.key_pem()};
  Server server(options, test_router());
  REQUIRE(server.start());
  auto res = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE_FALSE(res);
  CHECK(res.error().code == Errc::permission_denied);
  CHECK_THAT(res.error().message,
             Catch::Contains("certificate verify failed: IP address mismatch"));
  auto by_name = request(trusting(pki.root), "GET",
                         "https://localhost:" + std::to_string(server.port()) + "/health");
  REQUIRE_FALSE(by_name);
  CHECK_THAT(by_name.error().message,
             Catch::Contains("certificate verify failed: hostname mismatch"));
}

TEST_CASE("client in insecure mode fetches without a root", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  ClientOptions options;
  options.insecure = true;
  auto res = request(options, "GET", url(server, "/health"));
  REQUIRE(res);
  CHECK(res->status == 200);
  REQUIRE_FALSE(res->peer_chain_der.empty());
  CHECK(res->peer_chain_der[0] == pki.leaf.der());
}

TEST_CASE("client refuses https without a root unless insecure", "[http]") {
  auto res = request(ClientOptions{}, "GET", "https://127.0.0.1:1/health");
  REQUIRE_FALSE(res);
  CHECK(res.error().code == Errc::invalid_argument);
}

TEST_CASE("client reports a refused connection as unavailable", "[http]") {
  unsigned short port = 0;
  {
    Server server(ServerOptions{}, test_router());
    REQUIRE(server.start());
    port = server.port();
  }
  auto res =
      request(ClientOptions{}, "GET", "http://127.0.0.1:" + std::to_string(port) + "/health");
  REQUIRE_FALSE(res);
  CHECK(res.error().code == Errc::unavailable);
  CHECK(res.error().message ==
        "connect 127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("server start reports a port in use as unavailable", "[http]") {
  Server first(ServerOptions{}, test_router());
  REQUIRE(first.start());
  ServerOptions options;
  options.port = first.port();
  Server second(options, test_router());
  auto started = second.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().code == Errc::unavailable);
  CHECK(started.error().message ==
        "listen 127.0.0.1:" + std::to_string(first.port()) + ": address already in use");
}

TEST_CASE("server start rejects a key that does not match the certificate", "[http]") {
  Pki pki;
  ServerOptions options = tls_options(pki);
  options.tls->key_pem = make_root("Other").key_pem();
  Server server(options, test_router());
  auto started = server.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().code == Errc::invalid_argument);
}

TEST_CASE("server echoes X-Request-Id, else X-Smallstep-Id, else makes a UUIDv4", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  auto options = trusting(pki.root);

  auto given = request(options, "GET", url(server, "/id"), "", {{"X-Request-Id", "req-123"}});
  REQUIRE(given);
  CHECK(given->header("X-Request-Id") == "req-123");
  CHECK(given->body == "req-123");

  auto smallstep = request(options, "GET", url(server, "/id"), "", {{"X-Smallstep-Id", "ss-9"}});
  REQUIRE(smallstep);
  CHECK(smallstep->header("X-Request-Id") == "ss-9");
  CHECK(smallstep->body == "ss-9");

  auto generated = request(options, "GET", url(server, "/id"));
  REQUIRE(generated);
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  CHECK(std::regex_match(generated->header("X-Request-Id"), uuid));
  CHECK(generated->body == generated->header("X-Request-Id"));

  auto missing = request(options, "GET", url(server, "/missing"));
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(std::regex_match(missing->header("X-Request-Id"), uuid));
}

TEST_CASE("server turns a handler exception into step-ca's generic 500", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  auto res = request(trusting(pki.root), "GET", url(server, "/boom"));
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(res->content_type == "application/json");
  CHECK(res->body ==
        "{\"status\":500,\"message\":\"The certificate authority encountered an Internal Server "
        "Error. Please see the certificate authority logs for more info.\"}\n");
  auto after = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("set_tls_credentials serves the new certificate to new connections", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  auto before = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(before);
  CHECK(serial_of(before->peer_chain_der.at(0)) == 100);

  auto renewed = make_cert(
      CertSpec{"keystep test", {"localhost"}, {"127.0.0.1"}, false, false, 101}, &pki.root);
  REQUIRE(server.set_tls_credentials({renewed.cert_pem(), renewed.key_pem()}));
  auto after = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(after);
  CHECK(serial_of(after->peer_chain_der.at(0)) == 101);
}

TEST_CASE("set_tls_credentials rejects a mismatched pair and keeps the old certificate", "[http]") {
  Pki pki;
  Server server(tls_options(pki), test_router());
  REQUIRE(server.start());
  auto renewed =
      make_cert(CertSpec{"keystep test", {}, {"127.0.0.1"}, false, false, 102}, &pki.root);
  auto swapped = server.set_tls_credentials({renewed.cert_pem(), pki.leaf.key_pem()});
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().code == Errc::invalid_argument);
  auto res = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(res);
  CHECK(serial_of(res->peer_chain_der.at(0)) == 100);
}

TEST_CASE("server exposes a verified client certificate chain, leaf first", "[http]") {
  Pki pki;
  auto client_root = make_root("Client Root");
  auto client_ca = make_cert(CertSpec{"Client Intermediate", {}, {}, true, false, 2}, &client_root);
  auto client =
      make_cert(CertSpec{"client.example", {"client.example"}, {}, false, true, 3}, &client_ca);
  ServerOptions options = tls_options(pki);
  options.client_ca_pem = client_root.cert_pem();
  Server server(options, test_router());
  REQUIRE(server.start());

  ClientOptions mtls = trusting(pki.root);
  mtls.client_chain_pem = client.cert_pem() + client_ca.cert_pem();
  mtls.client_key_pem = client.key_pem();
  auto res = request(mtls, "GET", url(server, "/peer"));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->header("X-Peer-Count") == "2");
  CHECK(res->header("X-Peer-Verified") == "true");
  CHECK(res->body == client.der());
  CHECK(res->header("X-Peer-Second-Size") == std::to_string(client_ca.der().size()));
}

TEST_CASE("server leaves the peer chain empty when the client presents no certificate", "[http]") {
  Pki pki;
  ServerOptions options = tls_options(pki);
  options.client_ca_pem = pki.root.cert_pem();
  Server server(options, test_router());
  REQUIRE(server.start());
  auto res = request(trusting(pki.root), "GET", url(server, "/peer"));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->header("X-Peer-Count") == "0");
  CHECK(res->header("X-Peer-Verified") == "false");
  CHECK(res->header("X-Tls") == "true");
  CHECK(res->body.empty());
}

TEST_CASE("server fails the handshake for a client certificate it does not trust", "[http]") {
  Pki pki;
  ServerOptions options = tls_options(pki);
  options.client_ca_pem = pki.root.cert_pem();
  Server server(options, test_router());
  REQUIRE(server.start());
  auto stranger_root = make_root("Stranger Root");
  auto stranger = make_cert(CertSpec{"stranger", {"stranger"}, {}, false, true, 5}, &stranger_root);
  ClientOptions mtls = trusting(pki.root);
  mtls.client_chain_pem = stranger.cert_pem();
  mtls.client_key_pem = stranger.key_pem();
  // With TLS 1.3 the client learns of the refusal on its first read, as an
  // alert or a reset depending on timing: only the failure is certain.
  auto res = request(mtls, "GET", url(server, "/peer"));
  REQUIRE_FALSE(res);
  auto healthy = request(trusting(pki.root), "GET", url(server, "/health"));
  REQUIRE(healthy);
}

TEST_CASE("server serves plain HTTP when configured without TLS", "[http]") {
  Server server(ServerOptions{}, test_router());
  REQUIRE(server.start());
  auto res = request(ClientOptions{}, "GET", url(server, "/peer", false));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->header("X-Tls") == "false");
  CHECK(res->peer_chain_der.empty());
  auto swapped = server.set_tls_credentials(Pki().credentials());
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().code == Errc::failed_precondition);
}
