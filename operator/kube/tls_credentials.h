#pragma once
// TlsCredentials is what the client needs to open a TLS connection to the
// API server, parsed once from a KubeConfig: its trust anchors (or the
// system store), the client certificate chain and key, and the host name
// or IP address the server certificate must match. configure() applies
// them to each new SSL_CTX; it verifies the peer chain against the trust
// anchors and the host (hostname or IP SAN, by OpenSSL) unless
// insecure_skip_tls_verify. Immutable after from_config: safe to share.

#include <memory>
#include <string>
#include <vector>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "operator/kube/kube_config.h"

namespace keystep::kube {

class TlsCredentials {
 public:
  // from_config fails with invalid_argument when a PEM does not parse or
  // the key does not match the certificate.
  [[nodiscard]] static Result<std::shared_ptr<const TlsCredentials>> from_config(const KubeConfig& config);

  // configure applies the credentials to ctx. If OpenSSL refuses one it
  // logs, makes ctx reject every server (so the handshake fails rather
  // than proceed half-configured) and returns false.
  [[nodiscard]] bool configure(SSL_CTX* ctx) const;

  [[nodiscard]] bool verifies_peer() const { return verify_peer_; }
  [[nodiscard]] const std::string& host() const { return host_; }

 private:
  TlsCredentials() = default;
  [[nodiscard]] bool apply(SSL_CTX* ctx) const;

  std::vector<crypto::X509Ptr> trust_anchors_;  // empty: the system store
  std::vector<crypto::X509Ptr> client_chain_;   // leaf first
  crypto::EvpPkeyPtr client_key_;
  std::string host_;  // without brackets
  bool host_is_ip_ = false;
  bool verify_peer_ = true;
};

// server_host returns the host of a server URL, without IPv6 brackets:
// "https://[::1]:6443" -> "::1".
[[nodiscard]] std::string server_host(const std::string& server);

}  // namespace keystep::kube
