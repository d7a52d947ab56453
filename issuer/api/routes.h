#pragma once
// make_router mounts the step-ca compatible API (reference §1) on a Router,
// every route under "/" and "/1.0/": health, version, roots, intermediates,
// federation, provisioners (paginated) and their encrypted keys, sign,
// renew (mTLS or Bearer x5c token), revoke, crl, an OCSP responder
// (POST /ocsp, GET /ocsp/{base64 request}) and, with an acme::Service, ACME
// under /acme/{provisioner}/ and /2.0/acme/{provisioner}/.
// Handlers decode, call the Authority and map its Error once (errors.h).
// With metrics, GET /metrics serves them and every request is counted by
// route pattern and status.

#include <memory>

#include "issuer/acme/service.h"
#include "issuer/authority/authority.h"
#include "issuer/authority/crl_service.h"
#include "issuer/authority/directory.h"
#include "issuer/http/router.h"
#include "issuer/metrics/metrics.h"

namespace keystep::api {

inline constexpr char kVersion[] = "0.1.0";

struct ApiContext {
  const authority::Authority& authority;
  metrics::Metrics* metrics = nullptr;       // optional: /metrics and request counting
  authority::CrlService* crl = nullptr;      // optional: /crl (404 without)
  std::chrono::seconds ocsp_validity{std::chrono::hours(1)};
  // directory, in cluster mode, adds the Authorities of StepClusterIssuers:
  // sign, renew and revoke are routed to the Authority of the provisioner
  // they name, and provisioners, roots and intermediates list all of them.
  // Null: `authority` answers everything. Its primary() is `authority`.
  const authority::Directory* directory = nullptr;
  // acme serves /acme/{provisioner}/... (and /2.0/acme/...) when set.
  acme::Service* acme = nullptr;
};

// make_router is the HTTPS API: every route below, plus revoke, renew, CRL
// and OCSP.
// The context must outlive the router.
[[nodiscard]] std::shared_ptr<http::Router> make_router(const ApiContext& context);

// make_plain_router is the plain-HTTP listener's subset, for clients that
// cannot do TLS first: health, roots.pem, root/{sha256}, CRL and OCSP
// (all signed or self-verifying).
[[nodiscard]] std::shared_ptr<http::Router> make_plain_router(const ApiContext& context);

}  // namespace keystep::api
