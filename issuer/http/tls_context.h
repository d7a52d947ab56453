#pragma once
// OpenSSL contexts for Keystep's listeners and clients: TLS 1.2 and 1.3
// only, and for TLS 1.2 the ECDHE AEAD suites step-ca offers. Plain OpenSSL,
// no Asio: the server and client wrap the SSL_CTX themselves.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/http/tls_credentials.h"

namespace keystep::http {

inline constexpr std::size_t kMaxPemCertificates = 64;
inline constexpr int kMaxVerifyDepth = 10;

// make_server_tls_context builds a listener's context presenting creds.
// With a non-empty client_ca_pem it asks for a client certificate (never
// requires one) and fails the handshake when a presented certificate does
// not verify against those CAs. Bad PEM, or a key that does not match the
// leaf, is invalid_argument.
[[nodiscard]] Result<crypto::SslCtxPtr> make_server_tls_context(const TlsCredentials& creds,
                                                                std::string_view client_ca_pem);

// make_client_tls_context builds a client context trusting root_pem (the
// caller still sets the expected host or IP on each SSL). insecure skips
// server verification and ignores root_pem. identity, when given, is
// presented for mutual TLS.
[[nodiscard]] Result<crypto::SslCtxPtr> make_client_tls_context(
    std::string_view root_pem, bool insecure, const std::optional<TlsCredentials>& identity);

// parse_pem_certificates reads every CERTIFICATE block of pem, in order.
// No certificate, a malformed block, or more than kMaxPemCertificates is
// invalid_argument.
[[nodiscard]] Result<std::vector<crypto::X509Ptr>> parse_pem_certificates(std::string_view pem);

// peer_chain_der returns the certificates the peer of an established
// connection presented, leaf first, as DER; empty when it sent none.
[[nodiscard]] std::vector<std::string> peer_chain_der(const SSL* ssl);

}  // namespace keystep::http
