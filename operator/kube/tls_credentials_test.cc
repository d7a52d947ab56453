// Tests TLS to the API server end to end: a Client against an in-process
// OpenSSL server on 127.0.0.1:0 with certificates made here.
#include "operator/kube/tls_credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "operator/kube/client.h"

using namespace keystep;
using namespace keystep::kube;
using namespace keystep::crypto;

namespace {

struct KeyPair {
  EvpPkeyPtr key;
  X509Ptr cert;
  [[nodiscard]] std::string cert_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }
  [[nodiscard]] std::string key_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }
};

// self_signed makes a P-256 certificate for `cn` with subjectAltName `san`
// ("IP:127.0.0.1", "DNS:localhost").
KeyPair self_signed(const std::string& cn, const std::string& san) {
  KeyPair kp;
  kp.key.reset(EVP_EC_gen("P-256"));
  REQUIRE(kp.key);
  kp.cert.reset(X509_new());
  X509_set_version(kp.cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kp.cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(kp.cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(kp.cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(kp.cert.get());  // borrowed
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(kp.cert.get(), name);
  X509_set_pubkey(kp.cert.get(), kp.key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, kp.cert.get(), kp.cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("CA:TRUE")}}) {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    REQUIRE(ext);
    X509_add_ext(kp.cert.get(), ext.get(), -1);
  }
  REQUIRE(X509_sign(kp.cert.get(), kp.key.get(), EVP_sha256()) > 0);
  return kp;
}

// TlsServer answers each connection's request with 200 {"ok":true}, and
// records the client certificate's CN when one is presented.
class TlsServer {
 public:
  TlsServer(const KeyPair& server, const KeyPair* trusted_client) : ctx_(SSL_CTX_new(TLS_server_method())) {
    SSL_CTX_use_certificate(ctx_.get(), server.cert.get());
    SSL_CTX_use_PrivateKey(ctx_.get(), server.key.get());
    if (trusted_client != nullptr) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_.get()), trusted_client->cert.get());
      SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    stopping_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string client_cn() const {
    std::lock_guard lock(mu_);
    return client_cn_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      std::unique_ptr<SSL, FreeWith<SSL_free>> ssl(SSL_new(ctx_.get()));
      SSL_set_fd(ssl.get(), conn);
      if (SSL_accept(ssl.get()) == 1) {
        if (X509* peer = SSL_get0_peer_certificate(ssl.get())) {  // borrowed
          char cn[256] = {};
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
          std::lock_guard lock(mu_);
          client_cn_ = cn;
        }
        std::string request;
        char buf[1024];
        while (request.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl.get(), buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, static_cast<std::size_t>(n));
        }
        std::string body = R"({"ok":true})";
        std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        SSL_write(ssl.get(), response.data(), static_cast<int>(response.size()));
        SSL_shutdown(ssl.get());
      }
      ERR_clear_error();
      ::close(conn);
    }
  }

  SslCtxPtr ctx_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string client_cn_;
};

Result<nlohmann::json> get_via(const std::string& host, int port, KubeConfig config) {
  config.server = "https://" + host + ":" + std::to_string(port);
  auto client = Client::create(std::move(config));
  if (!client) return tl::unexpected(client.error());
  return (*client)->raw("GET", "/version");
}

}  // namespace

TEST_CASE("server_host strips scheme, port and IPv6 brackets", "[kube]") {
  CHECK(server_host("https://10.96.0.1:443") == "10.96.0.1");
  CHECK(server_host("https://[fd00::1]:6443") == "fd00::1");
  CHECK(server_host("https://api.example/prefix") == "api.example");
  CHECK(server_host("https://api.example") == "api.example");
}

TEST_CASE("Client verifies the API server against the CA and its IP SAN and presents a client certificate",
          "[kube]") {
  KeyPair server = self_signed("apiserver", "IP:127.0.0.1");
  KeyPair client_cert = self_signed("keystep-operator", "DNS:keystep");
  TlsServer tls(server, &client_cert);
  KubeConfig config;
  config.ca_pem = server.cert_pem();
  config.client_cert_pem = client_cert.cert_pem();
  config.client_key_pem = SecretBytes(client_cert.key_pem());
  auto got = get_via("127.0.0.1", tls.port(), std::move(config));
  REQUIRE(got);
  CHECK((*got)["ok"] == true);
  CHECK(tls.client_cn() == "keystep-operator");
}

TEST_CASE("Client verifies a DNS name SAN", "[kube]") {
  KeyPair server = self_signed("apiserver", "DNS:localhost");
  TlsServer tls(server, nullptr);
  KubeConfig config;
  config.ca_pem = server.cert_pem();
  CHECK(get_via("localhost", tls.port(), std::move(config)));
}

TEST_CASE("Client refuses a server whose certificate names another host", "[kube]") {
  KeyPair server = self_signed("apiserver", "DNS:other.example");
  TlsServer tls(server, nullptr);
  KubeConfig config;
  config.ca_pem = server.cert_pem();
  auto got = get_via("127.0.0.1", tls.port(), std::move(config));
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Errc::unavailable);
}

TEST_CASE("Client refuses a server signed by another CA unless told to skip verification", "[kube]") {
  KeyPair server = self_signed("apiserver", "IP:127.0.0.1");
  KeyPair other = self_signed("other-ca", "DNS:other");
  TlsServer tls(server, nullptr);
  KubeConfig strict;
  strict.ca_pem = other.cert_pem();
  auto refused = get_via("127.0.0.1", tls.port(), std::move(strict));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::unavailable);

  KubeConfig insecure;
  insecure.ca_pem = other.cert_pem();
  insecure.insecure_skip_tls_verify = true;
  CHECK(get_via("127.0.0.1", tls.port(), std::move(insecure)));
}

TEST_CASE("TlsCredentials rejects a client key that does not match the certificate", "[kube]") {
  KeyPair a = self_signed("a", "DNS:a");
  KeyPair b = self_signed("b", "DNS:b");
  KubeConfig config;
  config.server = "https://k";
  config.client_cert_pem = a.cert_pem();
  config.client_key_pem = SecretBytes(b.key_pem());
  auto creds = TlsCredentials::from_config(config);
  REQUIRE_FALSE(creds);
  CHECK(creds.error().code == Errc::invalid_argument);
  CHECK_THAT(creds.error().message, Catch::Contains("client-key"));
}
