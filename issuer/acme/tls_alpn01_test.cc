// tls-alpn-01 through NetworkValidator against a loopback OpenSSL server
// thread presenting certificates made here.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "issuer/acme/key_authorization.h"
#include "issuer/acme/validator.h"
#include "issuer/http/testing_pki.h"
#include "issuer/http/tls_context.h"
#include "tests/support/process.h"

using namespace keystep;
using namespace keystep::acme;
using http::testing::check;

namespace {

const std::string kKeyAuthorization =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

struct AlpnCertSpec {
  std::string sans = "DNS:localhost";         // X509V3 config syntax
  std::string digest_of = kKeyAuthorization;  // "" for no acmeIdentifier
  bool is_critical = true;
};

// make_alpn_cert makes RFC 8737's self-signed validation certificate.
http::testing::TestCert make_alpn_cert(const AlpnCertSpec& spec) {
  http::testing::TestCert out{crypto::X509Ptr(X509_new()), http::testing::make_p256_key()};
  X509* cert = out.cert.get();
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert), 7) == 1, "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* name = X509_get_subject_name(cert);  // borrowed
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("acme tls alpn"), -1, -1, 0);
  check(X509_set_issuer_name(cert, name) == 1, "issuer name");
  check(X509_set_pubkey(cert, out.key.get()) == 1, "X509_set_pubkey");
  if (!spec.sans.empty()) http::testing::add_extension(cert, cert, NID_subject_alt_name, spec.sans);
  if (!spec.digest_of.empty()) {
    const auto digest = tls_alpn01_digest(spec.digest_of);
    crypto::Asn1OctetStringPtr inner(ASN1_OCTET_STRING_new());
    check(inner && ASN1_OCTET_STRING_set(inner.get(), digest.data(), digest.size()) == 1, "digest");
    unsigned char* der = nullptr;
    const int der_length = i2d_ASN1_OCTET_STRING(inner.get(), &der);
    check(der_length > 0, "i2d_ASN1_OCTET_STRING");
    crypto::Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
    const bool is_set = ASN1_OCTET_STRING_set(value.get(), der, der_length) == 1;
    OPENSSL_free(der);
    check(is_set, "extension value");
    std::unique_ptr<ASN1_OBJECT, common::FreeWith<ASN1_OBJECT_free>> oid(
        OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
    crypto::X509ExtensionPtr ext(
        X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), spec.is_critical ? 1 : 0, value.get()));
    check(ext && X509_add_ext(cert, ext.get(), -1) == 1, "acmeIdentifier");
  }
  check(X509_sign(cert, out.key.get(), EVP_sha256()) > 0, "X509_sign");
  return out;
}

// acme_tls selects acme-tls/1; no_alpn ignores ALPN; not_tls answers
// HTTP; silent never accepts; reset reads the ClientHello, then resets.
enum class Mode { acme_tls, no_alpn, not_tls, silent, reset };

// AlpnServer accepts connections on host, port 0, one at a time on its own
// thread, until destroyed; it records the SNI of the last handshake.
class AlpnServer {
 public:
  explicit AlpnServer(const http::testing::TestCert& cert, Mode mode = Mode::acme_tls,
                      const std::string& host = "127.0.0.1")
      : mode_(mode) {
    auto ctx = http::make_server_tls_context({cert.cert_pem(), cert.key_pem()}, "");
    REQUIRE(ctx);
    ctx_ = std::move(*ctx);
    SSL_CTX_set_num_tickets(ctx_.get(), 0);  // nothing to write once the handshake is done
    if (mode == Mode::acme_tls) SSL_CTX_set_alpn_select_cb(ctx_.get(), select_acme_tls, nullptr);
    // Recorded during the handshake, so before the client can finish it.
    SSL_CTX_set_tlsext_servername_callback(ctx_.get(), record_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx_.get(), this);
    listen_on(host);
    REQUIRE(::pipe2(wake_, O_CLOEXEC) == 0);
    thread_ = std::thread([this] { run(); });
  }
  ~AlpnServer() {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
    ::close(fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  AlpnServer(const AlpnServer&) = delete;
  AlpnServer& operator=(const AlpnServer&) = delete;

  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] std::string sni() const {
    std::lock_guard lock(mutex_);
    return sni_;
  }

 private:
  static int select_acme_tls(SSL*, const unsigned char** out, unsigned char* out_length,
                             const unsigned char* in, unsigned in_length, void*) {
    static const unsigned char kOffer[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_length, kOffer, sizeof kOffer, in, in_length) !=
        OPENSSL_NPN_NEGOTIATED) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }

  static int record_sni(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<AlpnServer*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);  // borrowed
    std::lock_guard lock(self->mutex_);
    self->sni_ = name != nullptr ? name : "";
    return SSL_TLSEXT_ERR_OK;
  }

  void listen_on(const std::string& host) {
    sockaddr_in6 v6{};
    sockaddr_in v4{};
    const bool is_v6 = host.find(':') != std::string::npos;
    sockaddr* addr = is_v6 ? reinterpret_cast<sockaddr*>(&v6) : reinterpret_cast<sockaddr*>(&v4);
    socklen_t len = is_v6 ? sizeof v6 : sizeof v4;
    v6.sin6_family = AF_INET6;
    v4.sin_family = AF_INET;
    REQUIRE(::inet_pton(is_v6 ? AF_INET6 : AF_INET, host.c_str(),
                        is_v6 ? static_cast<void*>(&v6.sin6_addr) : &v4.sin_addr) == 1);
    fd_ = ::socket(is_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool is_listening = fd_ >= 0 && ::bind(fd_, addr, len) == 0 && ::listen(fd_, 8) == 0 &&
                              ::getsockname(fd_, addr, &len) == 0;
    INFO("cannot listen on " << host << ": " << std::strerror(errno));
    REQUIRE(is_listening);
    port_ = ntohs(is_v6 ? v6.sin6_port : v4.sin_port);
  }

  void run() {
    // A client that hangs up early must not SIGPIPE the test binary: block
    // it on this thread (it stays pending here, harmlessly).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd_, POLLIN, 0}};
      // silent never accepts: the kernel completes the client's connect, then nothing.
      if (::poll(fds, mode_ == Mode::silent ? 1 : 2, -1) < 0 || fds[0].revents != 0) return;
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      timeval timeout{2, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      if (mode_ == Mode::not_tls) {
        (void)!::write(conn, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
      } else if (mode_ == Mode::reset) {
        char hello[512];
        (void)!::recv(conn, hello, sizeof hello, 0);
        linger abort{1, 0};
        ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      } else {
        std::unique_ptr<SSL, common::FreeWith<SSL_free>> ssl(SSL_new(ctx_.get()));
        SSL_set_fd(ssl.get(), conn);
        (void)SSL_accept(ssl.get());
        ERR_clear_error();
      }
      ::close(conn);
    }
  }

  Mode mode_;
  crypto::SslCtxPtr ctx_;
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  unsigned short port_ = 0;
  mutable std::mutex mutex_;
  std::string sni_;
  std::thread thread_;
};

std::optional<Problem> check_alpn(unsigned short port, const std::string& identifier_type,
                                  const std::string& identifier, int timeout_seconds = 5) {
  ValidationOptions options;
  options.tls_alpn01_port = port;
  options.timeout = std::chrono::seconds(timeout_seconds);
  return NetworkValidator().validate(
      options, {kTlsAlpn01, identifier_type, identifier, "tok", kKeyAuthorization});
}

}  // namespace

TEST_CASE("tls-alpn-01 accepts the validation certificate", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  if (problem) FAIL(problem->detail);
  CHECK(server.sni() == "localhost");
}

TEST_CASE("tls-alpn-01 sends the reverse name for an IPv4", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"IP:127.0.0.1"}));
  auto problem = check_alpn(server.port(), "ip", "127.0.0.1");
  if (problem) FAIL(problem->detail);
  CHECK(server.sni() == "1.0.0.127.in-addr.arpa");
}

TEST_CASE("tls-alpn-01 sends the reverse name for an IPv6", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"IP:::1"}), Mode::acme_tls, "::1");
  auto problem = check_alpn(server.port(), "ip", "::1");
  if (problem) FAIL(problem->detail);
  std::string expected = "1.";
  for (int i = 0; i < 31; ++i) expected += "0.";
  CHECK(server.sni() == expected + "ip6.arpa");
}

TEST_CASE("tls-alpn-01 rejects a wrong digest", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"DNS:localhost", kKeyAuthorization + "x"}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK_THAT(problem->detail, Catch::Contains("acmeIdentifier extension does not match"));
}

TEST_CASE("tls-alpn-01 rejects a non-critical extension", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"DNS:localhost", kKeyAuthorization, false}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK_THAT(problem->detail, Catch::Contains("not critical"));
}

TEST_CASE("tls-alpn-01 rejects a missing extension", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"DNS:localhost", ""}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK_THAT(problem->detail, Catch::Contains("without the acmeIdentifier extension"));
}

TEST_CASE("tls-alpn-01 rejects an extra SAN", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"DNS:localhost,DNS:other.example"}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "unauthorized");
  CHECK_THAT(problem->detail,
             Catch::Contains("[DNS:localhost, DNS:other.example], expected only DNS:localhost"));
}

TEST_CASE("tls-alpn-01 rejects another name", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({"DNS:other.example"}));
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "unauthorized");
  AlpnServer ip_server(make_alpn_cert({"DNS:127.0.0.1"}));  // a dNSName is not an iPAddress
  auto ip_problem = check_alpn(ip_server.port(), "ip", "127.0.0.1");
  REQUIRE(ip_problem);
  CHECK(ip_problem->type == "unauthorized");
}

TEST_CASE("tls-alpn-01 requires acme-tls/1", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({}), Mode::no_alpn);
  auto problem = check_alpn(server.port(), "dns", "localhost");
  REQUIRE(problem);
  CHECK(problem->type == "tls");
  CHECK_THAT(problem->detail, Catch::Contains("did not negotiate acme-tls/1"));
}

TEST_CASE("tls-alpn-01 reports a failed handshake", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({}), Mode::not_tls);
  auto problem = check_alpn(server.port(), "ip", "127.0.0.1");
  REQUIRE(problem);
  CHECK(problem->type == "tls");
  CHECK_THAT(problem->detail, Catch::StartsWith("tls handshake with 127.0.0.1:" +
                                                std::to_string(server.port()) + " failed"));
}

TEST_CASE("tls-alpn-01 reports a reset", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({}), Mode::reset);
  auto problem = check_alpn(server.port(), "ip", "127.0.0.1");
  REQUIRE(problem);
  CHECK(problem->type == "connection");
  CHECK(problem->detail == "tls handshake with 127.0.0.1:" + std::to_string(server.port()) +
                               ": connection reset by peer");
}

TEST_CASE("tls-alpn-01 reports a closed port", "[acme][tlsalpn01]") {
  const auto port = static_cast<unsigned short>(keystep::testing::free_loopback_port());
  auto problem = check_alpn(port, "ip", "127.0.0.1");
  REQUIRE(problem);
  CHECK(problem->type == "connection");
  CHECK(problem->detail == "connect 127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("tls-alpn-01 times out on a silent server", "[acme][tlsalpn01]") {
  AlpnServer server(make_alpn_cert({}), Mode::silent);
  auto problem = check_alpn(server.port(), "ip", "127.0.0.1", 1);
  REQUIRE(problem);
  CHECK(problem->type == "connection");
  CHECK_THAT(problem->detail, Catch::Contains("timed out after 1s"));
}
