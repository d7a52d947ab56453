#pragma once
// CaClient is how the `keystep ca ...` commands talk to a step-ca compatible
// CA: it builds endpoint URLs from --ca-url, verifies the server with the
// --root bundle (or, only for fetching a root by fingerprint, not at all),
// and turns the CA's error bodies into one line a user can act on:
// "the CA refused the request: 401 The request lacked ...".
//
// The flag helpers here keep --ca-url and --root alike in every command.
// A CaClient is immutable; each call opens and closes its own connection.
// with_client_certificate and with_bearer_token return a copy that proves
// who is calling (renew, revoke); the copy holds the key or token, so it is
// not logged.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/secret_bytes.h"
#include "issuer/http/client.h"

namespace keystep::cli {

[[nodiscard]] FlagSpec ca_url_flag();
[[nodiscard]] FlagSpec root_flag(std::string help = "FILE with the CA's root certificate, to verify the CA (required)");

// read_ca_url returns --ca-url, which is required and must be an https URL.
[[nodiscard]] Result<std::string> read_ca_url(const Args& args);

// read_roots reads the certificates of a --root file.
[[nodiscard]] Result<std::vector<crypto::Certificate>> read_roots(const std::string& path);

// CaFlags are a verified connection's --ca-url and --root. read_ca_flags
// requires both; it reads no file, so its errors are usage errors.
struct CaFlags {
  std::string ca_url;
  std::string root_file;
};
[[nodiscard]] Result<CaFlags> read_ca_flags(const Args& args);

// endpoint_url replaces the path (and query) of ca_url with path, keeping the
// scheme and authority as written: ("https://ca:9000/x", "/1.0/sign") ->
// "https://ca:9000/1.0/sign". This is also how step makes token audiences.
[[nodiscard]] std::string endpoint_url(std::string_view ca_url, std::string_view path);

class CaClient {
 public:
  // verified trusts only `roots`; insecure skips server verification and is
  // meant for fetching a root whose fingerprint the caller then checks.
  [[nodiscard]] static CaClient verified(std::string ca_url, const std::vector<crypto::Certificate>& roots);
  // verified reads the roots of flags.root_file.
  [[nodiscard]] static Result<CaClient> verified(const CaFlags& flags);
  [[nodiscard]] static CaClient insecure(std::string ca_url);
  // plain_http is for an http:// ca_url, where there is nothing to verify:
  // only for signed documents such as CRLs.
  [[nodiscard]] static CaClient plain_http(std::string ca_url);

  // with_client_certificate presents chain_pem (leaf first) and key_pem in
  // the TLS handshake (mTLS).
  [[nodiscard]] CaClient with_client_certificate(std::string chain_pem, const crypto::SecretBytes& key_pem) const;
  // with_bearer_token sends "Authorization: Bearer <token>".
  [[nodiscard]] CaClient with_bearer_token(std::string token) const;

  [[nodiscard]] const std::string& ca_url() const { return ca_url_; }

  // get_json and post_json call path on the CA and return the JSON body of a
  // 2xx response. A status >= 400 fails with refusal_message(); a body that
  // is not JSON, a connection or a TLS failure fail with what went wrong.
  [[nodiscard]] Result<nlohmann::json> get_json(std::string_view path) const;
  [[nodiscard]] Result<nlohmann::json> post_json(std::string_view path, const nlohmann::json& body) const;
  // get_body is get_json for documents that are not JSON (a CRL): the body of
  // a 2xx response as it is.
  [[nodiscard]] Result<std::string> get_body(std::string_view path) const;

 private:
  CaClient(std::string ca_url, std::string root_pem, bool insecure);
  // send returns a 2xx response; other statuses fail as get_json says.
  [[nodiscard]] Result<http::ClientResponse> send(std::string_view method, std::string_view path,
                                                  std::string_view body) const;
  [[nodiscard]] Result<nlohmann::json> call(std::string_view method, std::string_view path,
                                            std::string_view body) const;

  std::string ca_url_;
  std::string root_pem_;
  bool insecure_ = false;
  std::string client_chain_pem_;
  std::shared_ptr<const crypto::SecretBytes> client_key_pem_;  // shared by copies, wiped with the last
  std::shared_ptr<const crypto::SecretBytes> bearer_token_;
};

// json_string returns the string member `name` of an object, or "" when
// json is not an object or the member is absent or not a string.
[[nodiscard]] std::string json_string(const nlohmann::json& json, const std::string& name);

// refusal_message renders an error response: "the CA refused the request:
// <status> <message>", the message taken from step-ca's {"status","message"}
// body, else from the first line of a text body.
[[nodiscard]] std::string refusal_message(int status, std::string_view body);

}  // namespace keystep::cli
