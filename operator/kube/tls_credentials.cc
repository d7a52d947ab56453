#include "operator/kube/tls_credentials.h"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "issuer/common/log.h"
#include "issuer/crypto/openssl_error.h"

namespace keystep::kube {
namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;
constexpr std::size_t kMaxChainLength = 64;

Result<std::vector<crypto::X509Ptr>> parse_certificates(std::string_view pem, const std::string& what) {
  if (pem.size() > kMaxPemBytes) return fail(Errc::invalid_argument, what + ": larger than 1 MiB");
  crypto::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return crypto::openssl_error(Errc::internal, what + ": BIO_new_mem_buf");
  std::vector<crypto::X509Ptr> certs;
  while (true) {
    crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (certs.size() == kMaxChainLength) {
      return fail(Errc::invalid_argument, what + ": more than 64 certificates");
    }
    certs.push_back(std::move(cert));
  }
  // The loop ends on "no start line" after the last certificate; anything
  // else is a malformed PEM block.
  unsigned long err = ERR_peek_last_error();
  if (certs.empty() || (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE)) {
    return crypto::openssl_error(Errc::invalid_argument, what + ": not PEM certificates");
  }
  ERR_clear_error();
  return certs;
}

// verify_chain replaces the per-certificate verify callback that cpprestsdk
// installs (Boost's RFC 2818 check, which cannot match an IPv6 address in
// brackets) with OpenSSL's own chain, hostname and IP verification, set up
// through the SSL_CTX's X509_VERIFY_PARAM in configure().
int keep_verdict(int ok, X509_STORE_CTX*) { return ok; }
int verify_chain(X509_STORE_CTX* store_ctx, void*) {
  X509_STORE_CTX_set_verify_cb(store_ctx, keep_verdict);
  return X509_verify_cert(store_ctx);
}
int reject_chain(X509_STORE_CTX* store_ctx, void*) {
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

std::string server_host(const std::string& server) {
  std::string_view rest(server);
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
  if (auto at = rest.find('@'); at != std::string_view::npos && at < rest.find('/')) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return std::string(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(rest.substr(0, rest.find_first_of(":/")));
}

Result<std::shared_ptr<const TlsCredentials>> TlsCredentials::from_config(const KubeConfig& config) {
  std::shared_ptr<TlsCredentials> creds(new TlsCredentials());
  creds->verify_peer_ = !config.insecure_skip_tls_verify;
  creds->host_ = server_host(config.server);
  unsigned char addr[16];
  creds->host_is_ip_ = inet_pton(AF_INET, creds->host_.c_str(), addr) == 1 ||
                       inet_pton(AF_INET6, creds->host_.c_str(), addr) == 1;
  if (!config.ca_pem.empty()) {
    auto cas = parse_certificates(config.ca_pem, "certificate-authority");
    if (!cas) return tl::unexpected(cas.error());
    creds->trust_anchors_ = std::move(*cas);
  }
  if (!config.client_cert_pem.empty()) {
    auto chain = parse_certificates(config.client_cert_pem, "client-certificate");
    if (!chain) return tl::unexpected(chain.error());
    creds->client_chain_ = std::move(*chain);
    std::string_view key_pem = config.client_key_pem.view();
    if (key_pem.size() > kMaxPemBytes) return fail(Errc::invalid_argument, "client-key: larger than 1 MiB");
    crypto::BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    creds->client_key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!creds->client_key_) return crypto::openssl_error(Errc::invalid_argument, "client-key: not a PEM private key");
    if (X509_check_private_key(creds->client_chain_.front().get(), creds->client_key_.get()) != 1) {
      return crypto::openssl_error(Errc::invalid_argument, "client-key: does not match client-certificate");
    }
  }
  return std::shared_ptr<const TlsCredentials>(std::move(creds));
}

bool TlsCredentials::configure(SSL_CTX* ctx) const {
  if (apply(ctx)) return true;
  // A half-configured context must not reach the server.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, reject_chain, nullptr);
  return false;
}

bool TlsCredentials::apply(SSL_CTX* ctx) const {
  auto log = common::logger("kube");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!trust_anchors_.empty()) {
    crypto::X509StorePtr store(X509_STORE_new());
    if (!store) {
      log->error("tls setup failed step=trust_store reason={}", crypto::drain_openssl_errors());
      return false;
    }
    for (const auto& ca : trust_anchors_) {
      if (X509_STORE_add_cert(store.get(), ca.get()) != 1) {  // takes its own reference
        log->error("tls setup failed step=add_trust_anchor reason={}", crypto::drain_openssl_errors());
        return false;
      }
    }
    SSL_CTX_set_cert_store(ctx, store.release());  // ctx owns it now
  }
  if (!client_chain_.empty()) {
    bool ok = SSL_CTX_use_certificate(ctx, client_chain_.front().get()) == 1;
    for (std::size_t i = 1; ok && i < client_chain_.size(); ++i) {
      ok = SSL_CTX_add1_chain_cert(ctx, client_chain_[i].get()) == 1;
    }
    ok = ok && SSL_CTX_use_PrivateKey(ctx, client_key_.get()) == 1;
    if (!ok) {
      log->error("tls setup failed step=client_certificate reason={}", crypto::drain_openssl_errors());
      return false;
    }
  }
  if (verify_peer_) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);  // borrowed
    int set = host_is_ip_ ? X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, host_.c_str(), host_.size());
    if (set != 1) {
      log->error("tls setup failed step=verify_host host={} reason={}", host_, crypto::drain_openssl_errors());
      return false;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain, nullptr);
  }
  return true;
}

}  // namespace keystep::kube
