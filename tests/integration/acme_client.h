#pragma once
// AcmeClient is a small ACME (RFC 8555) client for protocol tests against a
// real `keystep serve`: it speaks HTTPS with keystep's http::request trusting
// only the PKI's root, holds one account key (ES256 by default; RS256 or
// EdDSA), fetches the directory and nonces, and signs flattened-JSON JWS
// requests whose protected header is {alg, nonce, url, jwk|kid}.
//
// post() is the raw request: PostOptions lets a test corrupt what a real
// client gets right (the url in the protected header, a stale or made-up
// nonce, no nonce, another signing key, jwk where kid is expected, the
// Content-Type), and the reply is returned whatever its status. The other
// calls are protocol steps built on post(); they return the reply too, and
// only the wait_* and obtain_certificate helpers throw HarnessError (with
// the last reply) when the server does not get where they wait for.
//
// Every reply's Replay-Nonce is kept for the next request, so requests need
// no extra newNonce round trip. use_origin() sends every request (and
// rewrites every URL and the kid) to another origin: the replicas test
// reaches replica B with the URLs replica A handed out, as a load balancer
// in front of both would. Not thread-safe; fork() gives a thread its own
// copy of the account (same key and kid, no nonces).
//
// Http01Responder serves key authorizations on 127.0.0.1 (an ephemeral
// port) at /.well-known/acme-challenge/{token}, for the http-01 validator of
// a provisioner whose validation.http01Port is that port. Thread-safe.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/http/client.h"
#include "tests/support/pki.h"

namespace keystep::http {
class Server;
}

namespace keystep::integration {

inline constexpr char kAcmeErrorPrefix[] = "urn:ietf:params:acme:error:";

enum class AccountKeyType { es256, rs256, eddsa };

// make_account_key generates a fresh account key of that type (RSA: 2048 bits).
[[nodiscard]] jose::Jwk make_account_key(AccountKeyType type = AccountKeyType::es256);

// AcmeReply is one HTTP response of the ACME server.
struct AcmeReply {
  std::string method;
  std::string url;
  int status = 0;
  http::HeaderList headers;
  std::string content_type;
  std::string body;

  // header is the first value of a header (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
  // all_headers lists every value of a header, in order.
  [[nodiscard]] std::vector<std::string> all_headers(std::string_view name) const;
  // has_link: a Link header <target>;rel="rel" (any target when target is "").
  [[nodiscard]] bool has_link(std::string_view rel, std::string_view target = "") const;
  [[nodiscard]] std::string location() const { return header("Location"); }
  // json parses the body; throws HarnessError (with describe()) if it is not JSON.
  [[nodiscard]] nlohmann::json json() const;
  // problem_type is the problem document's "type" ("" when the body is none).
  [[nodiscard]] std::string problem_type() const;
  // describe renders the reply for a failure message.
  [[nodiscard]] std::string describe() const;
};

// PostOptions corrupts one aspect of a request; the defaults make a correct one.
struct PostOptions {
  enum class KeyRef { automatic, jwk, kid };
  // automatic: kid once the client has an account, else the embedded jwk.
  KeyRef key_ref = KeyRef::automatic;
  std::optional<std::string> kid;         // this kid instead of the account URL
  const jose::Jwk* sign_with = nullptr;   // sign (and embed, for jwk) this key instead of the account key
  std::optional<std::string> header_url;  // this protected "url" instead of the request URL
  std::optional<std::string> nonce;       // this nonce instead of a fresh one
  bool omit_nonce = false;                // no "nonce" in the protected header
  std::string content_type = "application/jose+json";
};

struct NewAccountOptions {
  std::vector<std::string> contact;
  bool terms_of_service_agreed = true;
  bool only_return_existing = false;
  std::optional<nlohmann::json> external_account_binding;  // e.g. acme::sign_eab(...)
};

// Identifier is {type, value}; dns by default.
struct AcmeIdentifier {
  std::string value;
  std::string type = "dns";
  [[nodiscard]] nlohmann::json to_json() const { return {{"type", type}, {"value", value}}; }
};

class Http01Responder {
 public:
  Http01Responder();  // listens at once; throws HarnessError if it cannot
  ~Http01Responder();
  Http01Responder(const Http01Responder&) = delete;
  Http01Responder& operator=(const Http01Responder&) = delete;

  [[nodiscard]] unsigned short port() const;
  void serve(const std::string& token, const std::string& key_authorization);
  // set_delay makes every later answer wait that long first (a slow site).
  void set_delay(std::chrono::milliseconds delay);
  // requests counts the GETs of known tokens so far.
  [[nodiscard]] int requests() const;

 private:
  struct State {
    mutable std::mutex mutex;
    std::map<std::string, std::string> answers;
    std::chrono::milliseconds delay{0};
    int requests = 0;
  };
  std::shared_ptr<State> state_;
  std::unique_ptr<http::Server> server_;
};

class AcmeClient {
 public:
  static constexpr std::chrono::seconds kWaitTimeout{30};

  // directory_url is https://host:port/acme/{provisioner}/directory.
  AcmeClient(std::string directory_url, std::string root_pem, jose::Jwk key = make_account_key());

  // fork is a copy for another thread: same key, account and origin, no nonces.
  [[nodiscard]] AcmeClient fork() const;

  // use_origin sends every later request to origin ("https://127.0.0.1:9001")
  // with its URLs (and kid) rewritten to it; "" sends them as given.
  void use_origin(std::string origin) { origin_ = std::move(origin); }
  // rebase is url with its origin replaced by use_origin's.
  [[nodiscard]] std::string rebase(const std::string& url) const;

  [[nodiscard]] const jose::Jwk& key() const { return key_; }
  void set_key(jose::Jwk key) { key_ = std::move(key); }
  // account_url is the Location of newAccount ("" before); it is the kid.
  [[nodiscard]] const std::string& account_url() const { return account_url_; }
  void set_account_url(std::string url) { account_url_ = std::move(url); }

  // directory fetches the directory once (GET) and keeps it; throws unless 200 JSON.
  const nlohmann::json& directory();
  // resource is the directory's URL for a name ("newOrder", "keyChange", ...).
  [[nodiscard]] std::string resource(const std::string& name);

  [[nodiscard]] AcmeReply get(const std::string& url);
  [[nodiscard]] AcmeReply head(const std::string& url);
  // fresh_nonce asks newNonce (HEAD) for one; throws if there is none.
  [[nodiscard]] std::string fresh_nonce();
  // last_nonce is the nonce the last post() sent ("" before any).
  [[nodiscard]] const std::string& last_nonce() const { return last_nonce_; }

  // post signs payload ("" for POST-as-GET) for url and sends it.
  [[nodiscard]] AcmeReply post(const std::string& url, const std::string& payload, const PostOptions& options = {});
  [[nodiscard]] AcmeReply post(const std::string& url, const nlohmann::json& payload,
                               const PostOptions& options = {}) {
    return post(url, payload.dump(), options);
  }
  [[nodiscard]] AcmeReply post_as_get(const std::string& url, const PostOptions& options = {}) {
    return post(url, std::string(), options);
  }

  // Protocol steps. new_account keeps the Location as account_url on 200/201.
  [[nodiscard]] AcmeReply new_account(const NewAccountOptions& options = {});
  [[nodiscard]] AcmeReply new_order(const std::vector<AcmeIdentifier>& identifiers,
                                    const nlohmann::json& extra = nlohmann::json::object());
  [[nodiscard]] AcmeReply answer_challenge(const std::string& challenge_url) { return post(challenge_url, std::string("{}")); }
  [[nodiscard]] AcmeReply finalize(const std::string& finalize_url, const common::Bytes& csr_der);
  [[nodiscard]] AcmeReply download(const std::string& certificate_url) { return post_as_get(certificate_url); }
  // revoke sends the certificate's DER; reason is omitted when nullopt.
  [[nodiscard]] AcmeReply revoke(const common::Bytes& certificate_der, std::optional<int> reason = std::nullopt,
                                 const PostOptions& options = {});
  [[nodiscard]] AcmeReply deactivate_account();
  // key_change rolls the account over to new_key (RFC 8555 §7.3.5); on 200
  // the client signs with new_key from then on.
  [[nodiscard]] AcmeReply key_change(const jose::Jwk& new_key);
  [[nodiscard]] AcmeReply orders();
  // renewal_info GETs renewalInfo/<cert id> (RFC 9773).
  [[nodiscard]] AcmeReply renewal_info(const std::string& cert_id);

  // key_authorization is token "." thumbprint of the account key.
  [[nodiscard]] std::string key_authorization(const std::string& token) const;
  // serve_http01 reads the authorization, puts the http-01 key authorization
  // on responder and returns the challenge URL (throws when there is none).
  [[nodiscard]] std::string serve_http01(const std::string& authz_url, Http01Responder& responder);
  // wait_status polls url (POST-as-GET) until its "status" is not one of
  // `pending`/`processing` and returns that reply; throws after kWaitTimeout.
  [[nodiscard]] AcmeReply wait_status(const std::string& url);

  // ReadyOrder is an order whose authorizations were all proved.
  struct ReadyOrder {
    std::string url;
    std::string finalize;
  };
  // ready_order runs newOrder and http-01 for every authorization and waits
  // until the order is ready; throws HarnessError at the first unexpected reply.
  [[nodiscard]] ReadyOrder ready_order(const std::vector<AcmeIdentifier>& identifiers, Http01Responder& responder);

  // IssuedOrder is the outcome of obtain_certificate.
  struct IssuedOrder {
    std::string order_url;
    nlohmann::json order;   // the final, valid order
    std::string chain_pem;  // leaf first
    crypto::EvpPkeyPtr key; // the certificate's key
  };
  // obtain_certificate is ready_order, then finalize with a CSR of a fresh
  // P-256 key for the identifiers and the download; throws HarnessError at the first unexpected reply.
  [[nodiscard]] IssuedOrder obtain_certificate(const std::vector<AcmeIdentifier>& identifiers,
                                               Http01Responder& responder);

 private:
  [[nodiscard]] AcmeReply send(const std::string& method, const std::string& url, const std::string& body,
                               const http::HeaderList& headers);
  [[nodiscard]] std::string take_nonce();

  std::string directory_url_;
  http::ClientOptions http_;
  jose::Jwk key_;
  std::string account_url_;
  std::string origin_;
  std::optional<nlohmann::json> directory_;
  std::vector<std::string> nonces_;  // Replay-Nonces not yet used
  std::string last_nonce_;
};

// require_status throws HarnessError with the reply unless its status is status.
const AcmeReply& require_status(const AcmeReply& reply, int status, const std::string& what);

// csr_der is a CSR (DER) of key for spec (see tests/support/pki.h).
[[nodiscard]] common::Bytes csr_der(EVP_PKEY* key, const testing::CsrSpec& spec);

// acme_cert_id is the RFC 9773 CertID of a PEM certificate, computed with
// OpenSSL: base64url(AKI keyIdentifier) "." base64url(serial DER content).
[[nodiscard]] std::string acme_cert_id(const std::string& certificate_pem);

// edit_yaml loads a YAML file (keystep.yaml), lets edit change it and writes
// it back (comments are lost): how these tests add ACME provisioners and a
// name policy to the config `keystep init` wrote.
void edit_yaml(const std::filesystem::path& file, const std::function<void(YAML::Node&)>& edit);

// parse_time reads an RFC 3339 UTC time ("2026-11-22T10:00:00Z", a fraction
// allowed); throws HarnessError otherwise.
[[nodiscard]] std::chrono::system_clock::time_point parse_time(const std::string& text);

// certificate_der is the DER of the first certificate of a PEM chain.
[[nodiscard]] common::Bytes certificate_der(const std::string& chain_pem);

}  // namespace keystep::integration
