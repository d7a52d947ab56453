#pragma once
// request() is a small synchronous HTTP/1.1 client for the keystep CLI and
// tests: one connection per call, closed afterwards. Over https it verifies
// the server against root_pem and the URL's host (DNS name or IP SAN) and
// sends SNI for DNS names. Beast stays inside client.cc.
//
// Failures: a bad URL or option is invalid_argument; resolve, connect,
// timeout and I/O failures are unavailable ("connect 127.0.0.1:9000:
// connection refused"); a TLS failure - verification of the server, or the
// server refusing our client certificate - is permission_denied ("tls
// handshake with 127.0.0.1:9000 failed: certificate verify failed: unable
// to get local issuer certificate"). Any HTTP status is a success.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"
#include "issuer/http/message.h"

namespace keystep::http {

inline constexpr std::size_t kMaxClientResponseBytes = std::size_t{64} << 20;

struct ClientOptions {
  std::string root_pem;  // trust anchors; required for https unless insecure
  // Skip server verification. Only for fetching a root whose fingerprint the
  // caller then compares (step ca root / bootstrap).
  bool insecure = false;
  std::chrono::seconds timeout{30};  // bounds the whole call
  std::string client_chain_pem;      // optional mTLS identity: leaf, intermediates
  std::string client_key_pem;
  std::string user_agent = "keystep";
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  HeaderList headers;
  std::vector<std::string> peer_chain_der;  // the server's chain as sent, leaf first (https)

  // header returns the first value of the named header, or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

// request sends method to url with body and extra headers (Host, User-Agent,
// Content-Length and Connection are set here) and reads the whole response,
// up to kMaxClientResponseBytes.
[[nodiscard]] Result<ClientResponse> request(const ClientOptions& options, std::string_view method,
                                             std::string_view url, std::string_view body = "",
                                             const HeaderList& headers = {});

}  // namespace keystep::http
