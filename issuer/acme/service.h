#pragma once
// Service is Keystep's ACME server (RFC 8555, with RFC 8737 tls-alpn-01,
// RFC 8738 IP identifiers and RFC 9773 renewal information) for every ACME
// provisioner of the Directory: /acme/{provisioner}/directory and the
// resources it links. All state is in the Store, so any replica continues
// an order another began: nonces are single-use across replicas, and every
// change of an account, order or authorization is a compare-and-swap on
// the version read, so two replicas finalizing one order sign once.
//
// Requests are JWS-signed POSTs (POST-as-GET to read), checked in this
// order: Content-Type application/jose+json, the JWS shape and url
// (signed_request.h), the account a kid names (it must exist, belong to
// this provisioner and be valid), the signature, then the nonce. Every
// response, errors included, carries a fresh Replay-Nonce and
// Link: <directory>;rel="index"; errors are problem documents.
//
// Challenges are validated by a Validator on a ValidationQueue: a POST to a
// challenge answers "processing" at once with Retry-After, attempts are
// retried with the provisioner's backoff, and the last failure is the
// challenge's error. Certificates come from the provisioner's Authority
// (sign_acme: the issuer's claims and policy apply). Thread-safe.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "issuer/acme/nonces.h"
#include "issuer/acme/objects.h"
#include "issuer/acme/signed_request.h"
#include "issuer/acme/validation_queue.h"
#include "issuer/acme/validator.h"
#include "issuer/authority/crl_service.h"
#include "issuer/authority/directory.h"
#include "issuer/http/message.h"

namespace keystep::acme {

inline constexpr char kJoseContentType[] = "application/jose+json";
inline constexpr char kPemChainContentType[] = "application/pem-certificate-chain";

struct ServiceOptions {
  std::size_t validation_threads = 4;
  std::chrono::seconds nonce_lifetime{std::chrono::hours(1)};
  // A challenge still "processing" this long after its attempt was due is
  // taken over (its replica died): the next request that reads it queues it here.
  std::chrono::seconds stale_after{60};
  std::chrono::seconds renewal_info_retry_after{std::chrono::hours(6)};
  // A challenge POST waits this long for the first attempt, so a quick
  // validation is answered "valid" at once and the client need not poll.
  std::chrono::milliseconds first_attempt_wait{200};
  // crl, when set, is regenerated after every revokeCert, as /revoke does,
  // so the published CRL lists the certificate at once.
  authority::CrlService* crl = nullptr;
};

class Service {
 public:
  Service(const authority::Directory& directory, storage::Store& store, const common::Clock& clock,
          const Validator& validator, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // handle answers GET, HEAD and POST to /acme/{provisioner}/{resource...}
  // (req.params "provisioner" and "resource", as the Router fills them).
  [[nodiscard]] http::Response handle(const http::Request& req);

  // stop ends validation (before the Store goes away).
  void stop() { queue_.stop(); }

 private:
  // Context is one request's provisioner.
  struct Context {
    authority::Routed authority;
    const AcmeProvisionerConfig& config;
    Links links;
    std::string request_url;  // scheme://host + the path the client used
  };
  // Caller is an authenticated POST.
  struct Caller {
    SignedRequest request;
    std::optional<Account> account;  // for kid requests
    jose::Jwk key;                   // the key that signed
  };
  using Reply = tl::expected<http::Response, Problem>;

  [[nodiscard]] Reply route(const Context& ctx, const http::Request& req, const std::vector<std::string>& parts);
  [[nodiscard]] tl::expected<Caller, Problem> authenticate(const Context& ctx, const http::Request& req,
                                                           KeyReference expected);
  [[nodiscard]] tl::expected<Account, Problem> load_account(const Context& ctx, const std::string& id);

  // Resources; each file of issuer/acme/service_*.cc holds one family.
  [[nodiscard]] Reply directory(const Context& ctx) const;
  [[nodiscard]] Reply new_nonce(const http::Request& req) const;
  [[nodiscard]] Reply new_account(const Context& ctx, const Caller& caller);
  [[nodiscard]] Reply account(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply account_orders(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply key_change(const Context& ctx, const Caller& caller);
  [[nodiscard]] Reply new_order(const Context& ctx, const Caller& caller);
  [[nodiscard]] Reply order(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply finalize(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply certificate(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply authorization(const Context& ctx, const Caller& caller, const std::string& id);
  [[nodiscard]] Reply challenge(const Context& ctx, const Caller& caller, const std::string& authz_id,
                                const std::string& challenge_id);
  [[nodiscard]] Reply revoke_cert(const Context& ctx, const Caller& caller);
  [[nodiscard]] Reply renewal_info(const Context& ctx, const std::string& cert_id) const;

  // Store helpers: an object of the caller's account, or the problem.
  [[nodiscard]] tl::expected<Order, Problem> load_order(const Caller& caller, const std::string& id);
  [[nodiscard]] tl::expected<Authorization, Problem> load_authorization(const Caller& caller, const std::string& id);
  [[nodiscard]] tl::expected<std::vector<Authorization>, Problem> order_authorizations(const Order& order);
  [[nodiscard]] Problem store_problem(const Error& error) const;
  // account_key_in: badCSR when the CSR's key is an account key of any ACME provisioner.
  [[nodiscard]] std::optional<Problem> account_key_in(const crypto::Csr& csr);

  // validate runs one attempt of a queued challenge and records it.
  void validate(const ValidationJob& job);
  // resume_stale queues the processing challenges of a that no replica
  // is working on any more.
  void resume_stale(const Authorization& a);

  const authority::Directory& directory_;
  storage::Store& store_;
  const common::Clock& clock_;
  const Validator& validator_;
  ServiceOptions options_;
  Nonces nonces_;
  ValidationQueue queue_;
};

// Response helpers shared by the resource files.
[[nodiscard]] http::Response problem_response(const Problem& problem);
[[nodiscard]] http::Response json_response(int status, const nlohmann::json& body, const std::string& location = "");

}  // namespace keystep::acme
