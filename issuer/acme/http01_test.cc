// http-01 through NetworkValidator against keystep::http::Server on
// loopback (port 0), plain and TLS.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>

#include <catch2/catch.hpp>

#include "issuer/acme/validator.h"
#include "issuer/http/router.h"
#include "issuer/http/server.h"
#include "issuer/http/testing_server.h"
#include "tests/support/process.h"

using namespace keystep;
using namespace keystep::acme;

namespace {

const std::string kKeyAuthorization =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

http::Response redirect(int status, std::string location) {
  http::Response r = http::Response::text(status, "");
  r.set_header("Location", std::move(location));
  return r;
}

// ChallengeSite serves /.well-known/acme-challenge/<token> on 127.0.0.1
// (or ::1), the token choosing the behaviour; an https twin serves "right".
class ChallengeSite {
 public:
  explicit ChallengeSite(const std::string& host = "127.0.0.1")
      : port_(std::make_shared<std::atomic<unsigned short>>(0)),
        tls_port_(std::make_shared<std::atomic<unsigned short>>(0)),
        server_(options(host), router()),
        tls_server_(http::testing::tls_options(pki_), tls_router()) {
    auto started = server_.start();
    INFO("http server: " << (started ? "" : started.error().message));
    REQUIRE(started);
    auto tls_started = tls_server_.start();
    INFO("https server: " << (tls_started ? "" : tls_started.error().message));
    REQUIRE(tls_started);
    *port_ = server_.port();
    *tls_port_ = tls_server_.port();
  }

  [[nodiscard]] unsigned short port() const { return server_.port(); }

 private:
  static http::ServerOptions options(const std::string& host) {
    http::ServerOptions o;
    o.host = host;
    o.threads = 2;
    return o;
  }

  std::shared_ptr<http::Router> router() const {
    auto r = std::make_shared<http::Router>();
    auto port = port_;
    auto tls_port = tls_port_;
    r->add("GET", "/.well-known/acme-challenge/{token}",
           [port, tls_port](const http::Request& req) {
             const std::string& token = req.params.at("token");
             const std::string origin = "http://127.0.0.1:" + std::to_string(port->load());
             if (token == "right") return http::Response::text(200, kKeyAuthorization + "\r\n");
             if (token == "wrong") return http::Response::text(200, std::string(100, 'x') + "\n");
             if (token == "big") return http::Response::text(200, std::string(70 * 1024, 'x'));
             if (token == "chain") return redirect(302, "/hop/1");
             if (token == "loop") return redirect(302, "/.well-known/acme-challenge/loop");
             if (token == "ten") return redirect(302, "/count/9");
             if (token == "eleven") return redirect(302, "/count/10");
             if (token == "noloc") return http::Response::text(302, "");
             if (token == "ftp") return redirect(301, "ftp://127.0.0.1/x");
             if (token == "tls") {
               return redirect(307, "https://127.0.0.1:" + std::to_string(tls_port->load()) +
                                        "/.well-known/acme-challenge/right");
             }
             return http::Response::text(404, "not found\n");
           });
    // chain: an absolute path, then a relative one, an absolute URL, and a
    // scheme-relative one.
    r->add("GET", "/hop/{n}", [port](const http::Request& req) {
      const std::string& n = req.params.at("n");
      const std::string authority = "127.0.0.1:" + std::to_string(port->load());
      if (n == "1") return redirect(301, "2");
      if (n == "2") return redirect(303, "http://" + authority + "/hop/3");
      return redirect(308, "//" + authority + "/.well-known/acme-challenge/right");
    });
    r->add("GET", "/count/{n}", [](const http::Request& req) {
      const int n = std::stoi(req.params.at("n"));
      if (n == 0) return http::Response::text(200, kKeyAuthorization);
      return redirect(302, "/count/" + std::to_string(n - 1));
    });
    return r;
  }

  static std::shared_ptr<http::Router> tls_router() {
    auto r = std::make_shared<http::Router>();
    r->add("GET", "/.well-known/acme-challenge/right",
           [](const http::Request&) { return http::Response::text(200, kKeyAuthorization); });
    return r;
  }

  std::shared_ptr<std::atomic<unsigned short>> port_;
  std::shared_ptr<std::atomic<unsigned short>> tls_port_;
  http::testing::Pki pki_;
  http::Server server_;
  http::Server tls_server_;
};

ValidationOptions on_port(unsigned short port) {
  ValidationOptions o;
  o.http01_port = port;
  o.timeout = std::chrono::seconds(5);
  return o;
}

std::optional<Problem> fetch(const ChallengeSite& site, const std::string& token,
                             const std::string& identifier = "127.0.0.1") {
  return NetworkValidator().validate(on_port(site.port()),
                                     {kHttp01, "ip", identifier, token, kKeyAuthorization});
}

}  // namespace

TEST_CASE("http-01 accepts the key authorization", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "right");
  CHECK_FALSE(problem);
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 reaches a dns identifier", "[acme][http01]") {
  ChallengeSite site;
  auto problem = NetworkValidator().validate(
      on_port(site.port()), {kHttp01, "dns", "localhost", "right", kKeyAuthorization});
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 reaches an IPv6 identifier", "[acme][http01]") {
  ChallengeSite site("::1");
  auto problem = fetch(site, "right", "::1");
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 rejects a wrong body", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "wrong");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK(problem->status == 403);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(site.port()) + "/.well-known/acme-challenge/wrong";
  CHECK(problem->detail == url + " returned \"" + std::string(64, 'x') +
                               "…\" (first 64 chars), expected the key authorization");
}

TEST_CASE("http-01 rejects a 404", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "missing");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK_THAT(problem->detail, Catch::Contains("returned HTTP 404"));
}

TEST_CASE("http-01 rejects a body over 64 KiB", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "big");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK_THAT(problem->detail, Catch::Contains("larger than 64 KiB"));
}

TEST_CASE("http-01 follows a redirect chain", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "chain");
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 follows a redirect to https", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "tls");
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 follows ten redirects", "[acme][http01]") {
  ChallengeSite site;
  auto problem = fetch(site, "ten");
  if (problem) FAIL(problem->detail);
}

TEST_CASE("http-01 stops after ten redirects", "[acme][http01]") {
  ChallengeSite site;
  for (const char* token : {"eleven", "loop"}) {
    auto problem = fetch(site, token);
    REQUIRE(problem);
    CHECK(problem->type == "connection");
    CHECK_THAT(problem->detail, Catch::Contains("too many redirects"));
  }
}

TEST_CASE("http-01 rejects bad redirects", "[acme][http01]") {
  ChallengeSite site;
  auto ftp = fetch(site, "ftp");
  REQUIRE(ftp);
  CHECK(ftp->type == "connection");
  CHECK_THAT(ftp->detail,
             Catch::Contains("\"ftp://127.0.0.1/x\", which is not an http or https URL"));
  auto noloc = fetch(site, "noloc");
  REQUIRE(noloc);
  CHECK(noloc->type == "incorrectResponse");
  CHECK_THAT(noloc->detail, Catch::Contains("HTTP 302 without a Location"));
}

TEST_CASE("http-01 reports a closed port", "[acme][http01]") {
  const auto port = static_cast<unsigned short>(keystep::testing::free_loopback_port());
  auto problem = NetworkValidator().validate(
      on_port(port), {kHttp01, "ip", "127.0.0.1", "right", kKeyAuthorization});
  REQUIRE(problem);
  CHECK(problem->type == "connection");
  CHECK_THAT(problem->detail,
             Catch::Contains("127.0.0.1:" + std::to_string(port)) && Catch::Contains("refused"));
}

TEST_CASE("http-01 times out on a silent server", "[acme][http01]") {
  // A listener that never accepts: the kernel completes the handshake and
  // then nothing answers.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool is_listening = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                            ::listen(fd, 4) == 0 &&
                            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (!is_listening) ::close(fd);
  REQUIRE(is_listening);
  ValidationOptions options = on_port(ntohs(addr.sin_port));
  options.timeout = std::chrono::seconds(1);
  auto problem = NetworkValidator().validate(
      options, {kHttp01, "ip", "127.0.0.1", "right", kKeyAuthorization});
  ::close(fd);
  REQUIRE(problem);
  CHECK(problem->type == "connection");
  CHECK_THAT(problem->detail, Catch::Contains("timed out after 1s"));
}

TEST_CASE("http-01 refuses a token that is not base64url", "[acme][http01]") {
  auto problem = NetworkValidator().validate(
      on_port(80), {kHttp01, "dns", "a.example", "../x", kKeyAuthorization});
  REQUIRE(problem);
  CHECK(problem->type == "malformed");
}
