#pragma once
// make_router mounts the step-ca compatible API (reference §1) on a Router,
// every route under "/" and "/1.0/": health, version, roots, intermediates,
// federation, provisioners (paginated) and their encrypted keys, and sign.
// Handlers decode, call the Authority and map its Error once (errors.h).
// With metrics, GET /metrics serves them and every request is counted by
// route pattern and status.

#include <memory>

#include "issuer/authority/authority.h"
#include "issuer/http/router.h"
#include "issuer/metrics/metrics.h"

namespace keystep::api {

inline constexpr char kVersion[] = "0.1.0";

[[nodiscard]] std::shared_ptr<http::Router> make_router(const authority::Authority& authority,
                                                        metrics::Metrics* metrics = nullptr);

}  // namespace keystep::api
