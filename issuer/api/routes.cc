#include "issuer/api/routes.h"

#include <nlohmann/json.hpp>

#include "issuer/api/errors.h"
#include "issuer/common/log.h"
#include "issuer/crypto/certificate.h"
#include "issuer/revocation/crl.h"
#include "issuer/revocation/ocsp.h"

#include <ctime>

namespace keystep::api {
namespace {

constexpr std::size_t kDefaultPageSize = 20;
constexpr std::size_t kMaxPageSize = 100;

http::Response bad_request(const std::string& detail) { return error_response({Errc::invalid_argument, detail}); }

nlohmann::json pem_list(const std::vector<crypto::Certificate>& certs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : certs) list.push_back(c.pem());
  return list;
}

http::Response pem_bundle(const std::vector<crypto::Certificate>& certs) {
  auto r = http::Response::text(200, crypto::chain_to_pem(certs), "application/x-pem-file");
  return r;
}

// string_field reads an optional string member; JSON null counts as absent.
Result<std::string> string_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return fail(Errc::invalid_argument, std::string(name) + " must be a string");
  return it->get<std::string>();
}

http::Response sign_response(const signing::IssuedCertificate& issued) {
  nlohmann::json out = {{"crt", issued.leaf.pem()},
                        {"ca", issued.chain.size() > 1 ? nlohmann::json(issued.chain[1].pem()) : nlohmann::json()},
                        {"certChain", pem_list(issued.chain)}};
  return http::Response::json(201, out);
}

http::Response sign(const authority::Directory& directory, const http::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return bad_request("error decoding json");
  authority::SignRequest sign_request;
  for (auto [name, field] : {std::pair{"csr", &sign_request.csr_pem}, std::pair{"ott", &sign_request.ott},
                             std::pair{"notBefore", &sign_request.not_before},
                             std::pair{"notAfter", &sign_request.not_after}}) {
    auto value = string_field(body, name);
    if (!value) return error_response(value.error());
    *field = std::move(*value);
  }
  sign_request.request_id = req.request_id;
  const auto token = authority::DecodedToken::decode(sign_request.ott);
  auto issued = directory.for_token(token)->sign(sign_request, token);
  if (!issued) return error_response(issued.error());
  return sign_response(*issued);
}

http::Response renew(const authority::Directory& directory, const http::Request& req) {
  authority::RenewRequest renew_request;
  renew_request.request_id = req.request_id;
  if (req.peer_verified) renew_request.peer_chain_der = req.peer_chain_der;
  constexpr std::string_view kBearer = "Bearer ";
  if (const std::string auth = req.header("Authorization"); auth.rfind(kBearer, 0) == 0) {
    renew_request.bearer_token = auth.substr(kBearer.size());
  }
  auto authority = !renew_request.peer_chain_der.empty()
                       ? directory.for_certificate_der(renew_request.peer_chain_der.front())
                       : directory.for_renew_token(renew_request.bearer_token);
  auto issued = authority->renew(renew_request);
  if (!issued) return error_response(issued.error());
  return sign_response(*issued);
}

http::Response revoke(const ApiContext& ctx, const authority::Directory& directory, const http::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return bad_request("error decoding json");
  authority::RevokeRequest revoke_request;
  for (auto [name, field] : {std::pair{"serial", &revoke_request.serial}, std::pair{"ott", &revoke_request.ott},
                             std::pair{"reason", &revoke_request.reason}}) {
    auto value = string_field(body, name);
    if (!value) return error_response(value.error());
    *field = std::move(*value);
  }
  if (auto code = body.find("reasonCode"); code != body.end() && !code->is_null()) {
    if (!code->is_number_integer()) return bad_request("reasonCode must be an integer");
    revoke_request.reason_code = code->get<int>();
  }
  if (auto passive = body.find("passive"); passive != body.end() && !passive->is_null()) {
    if (!passive->is_boolean()) return bad_request("passive must be true or false");
    revoke_request.passive = passive->get<bool>();
  }
  if (req.peer_verified) revoke_request.peer_chain_der = req.peer_chain_der;
  auto authority = !revoke_request.ott.empty() ? directory.for_token(revoke_request.ott)
                   : !revoke_request.peer_chain_der.empty()
                       ? directory.for_certificate_der(revoke_request.peer_chain_der.front())
                       : directory.for_primary();
  auto serial = authority->revoke(revoke_request);
  if (!serial) return error_response(serial.error());
  if (ctx.crl != nullptr) ctx.crl->revoked(*serial);
  return http::Response::json(200, {{"status", "ok"}});
}

// http_date formats an Expires header (IMF-fixdate).
std::string http_date(common::TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

http::Response crl(const ApiContext& ctx, const http::Request& req) {
  if (ctx.crl == nullptr) return error_response({Errc::not_found, "the CRL is disabled on this CA"});
  auto current = ctx.crl->current();
  if (!current) return error_response(current.error());
  http::Response r;
  if (req.query_param("pem")) {
    r = http::Response::text(200, revocation::crl_to_pem(current->der), "application/x-pem-file");
    r.set_header("Content-Disposition", "attachment; filename=\"crl.pem\"");
  } else {
    r = http::Response::text(200, current->der, "application/pkix-crl");
    r.set_header("Content-Disposition", "attachment; filename=\"crl.crl\"");
  }
  r.set_header("Expires", http_date(current->next_update));
  return r;
}

// ocsp_lookup answers from the ledger: revoked, issued here (good), or unknown.
revocation::OcspStatusLookup ocsp_lookup(const authority::Authority& authority) {
  return [&authority](const std::string& serial) -> Result<revocation::CertStatus> {
    auto revoked = authority.store().find_revocation(serial);
    if (!revoked) return tl::unexpected(revoked.error());
    if (revoked->has_value()) {
      return revocation::CertStatus::revoked((*revoked)->revoked_at, (*revoked)->reason_code);
    }
    auto known = authority.store().find_certificate(serial);
    if (!known) return tl::unexpected(known.error());
    return known->has_value() ? revocation::CertStatus::good() : revocation::CertStatus::unknown();
  };
}

http::Response ocsp_answer(const ApiContext& ctx, std::string_view der) {
  auto answer = revocation::answer_ocsp_request(der, *ctx.authority.ca(), ocsp_lookup(ctx.authority),
                                                ctx.authority.clock().now(), ctx.ocsp_validity);
  if (!answer) return error_response(answer.error());
  return http::Response::text(200, *answer, "application/ocsp-response");
}

http::Response ocsp_post(const ApiContext& ctx, const http::Request& req) { return ocsp_answer(ctx, req.body); }

http::Response ocsp_get(const ApiContext& ctx, const http::Request& req) {
  auto der = revocation::decode_ocsp_get_path(req.params.at("request"));
  if (!der) {
    // RFC 6960 2.3: a malformed request still gets a (status-only) response.
    auto malformed = revocation::error_response(revocation::OcspResponseStatus::malformed_request);
    if (!malformed) return error_response(malformed.error());
    return http::Response::text(200, *malformed, "application/ocsp-response");
  }
  return ocsp_answer(ctx, *der);
}

void add_revocation_routes(http::Router& router, const ApiContext& ctx, const std::string& prefix) {
  const ApiContext* c = &ctx;
  router.add("GET", prefix + "/crl", [c](const http::Request& req) { return crl(*c, req); });
  router.add("POST", prefix + "/ocsp", [c](const http::Request& req) { return ocsp_post(*c, req); });
  router.add("GET", prefix + "/ocsp/{request...}", [c](const http::Request& req) { return ocsp_get(*c, req); });
}

http::Response provisioners(const authority::Directory& directory, const http::Request& req) {
  std::size_t limit = kDefaultPageSize;
  if (auto l = req.query_param("limit"); l && !l->empty()) {
    char* end = nullptr;
    long v = std::strtol(l->c_str(), &end, 10);
    if (end == l->c_str() || *end != '\0') return bad_request("limit '" + *l + "' is not an integer");
    if (v > 0) limit = std::min<std::size_t>(static_cast<std::size_t>(v), kMaxPageSize);
  }
  std::size_t start = 0;
  if (auto c = req.query_param("cursor"); c && !c->empty()) {
    char* end = nullptr;
    unsigned long v = std::strtoul(c->c_str(), &end, 10);
    if (end == c->c_str() || *end != '\0') return bad_request("cursor '" + *c + "' is not valid");
    start = v;
  }
  // One cursor over every Authority's JWK then K8sSA provisioners.
  auto all = directory.provisioners();
  const std::size_t total = all.size();
  nlohmann::json list = nlohmann::json::array();
  std::size_t i = start;
  for (; i < total && list.size() < limit; ++i) list.push_back(std::move(all[i]));
  std::string next = i < total ? std::to_string(i) : "";
  return http::Response::json(200, {{"provisioners", std::move(list)}, {"nextCursor", next}});
}

void observe(http::Router& router, metrics::Metrics* metrics) {
  if (metrics == nullptr) return;
  router.add("GET", "/metrics", [metrics](const http::Request&) {
    return http::Response::text(200, metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  router.set_observer([metrics](const http::Request& req, const http::Response& res) {
    metrics->http_request(req.route.empty() ? "unmatched" : req.route, res.status);
  });
}

http::Response health(const authority::Authority& authority) {
  if (auto s = authority.health(); !s) {
    return http::Response::error(503, "The certificate authority is unavailable: database: " + s.error().message + ".");
  }
  return http::Response::json(200, {{"status", "ok"}});
}

http::Response root_by_fingerprint(const authority::Directory& directory, const http::Request& req) {
  const std::string sha = crypto::normalize_fingerprint(req.params.at("sha"));
  for (const auto& root : directory.roots()) {
    if (root.sha256_hex() == sha) return http::Response::json(200, {{"ca", root.pem()}});
  }
  return error_response({Errc::not_found, "root certificate with fingerprint \"" + sha + "\" was not found"});
}

// directory_of is the context's Directory, or one of the primary alone
// (owned by the routes that capture it).
std::shared_ptr<const authority::Directory> directory_of(const ApiContext& context) {
  if (context.directory != nullptr) {
    return std::shared_ptr<const authority::Directory>(std::shared_ptr<void>(), context.directory);
  }
  return std::make_shared<const authority::Directory>(context.authority);
}

}  // namespace

std::shared_ptr<http::Router> make_plain_router(const ApiContext& context) {
  auto router = std::make_shared<http::Router>();
  observe(*router, context.metrics);
  const authority::Authority* a = &context.authority;
  auto d = directory_of(context);
  for (std::string prefix : {"", "/1.0"}) {
    router->add("GET", prefix + "/health", [a](const http::Request&) { return health(*a); });
    router->add("GET", prefix + "/roots.pem", [d](const http::Request&) { return pem_bundle(d->roots()); });
    // where a leaf's AIA caIssuers points (aia.caIssuers): clients fetch the chain before they trust the CA
    router->add("GET", prefix + "/intermediates.pem",
                [d](const http::Request&) { return pem_bundle(d->intermediates()); });
    router->add("GET", prefix + "/root/{sha}", [d](const http::Request& req) { return root_by_fingerprint(*d, req); });
    add_revocation_routes(*router, context, prefix);
  }
  return router;
}

std::shared_ptr<http::Router> make_router(const ApiContext& context) {
  auto router = std::make_shared<http::Router>();
  observe(*router, context.metrics);
  const ApiContext* ctx = &context;
  const authority::Authority* a = &context.authority;
  auto d = directory_of(context);
  for (std::string prefix : {"", "/1.0"}) {
    router->add("GET", prefix + "/health", [a](const http::Request&) { return health(*a); });
    router->add("GET", prefix + "/version", [](const http::Request&) {
      return http::Response::json(200, {{"version", kVersion}});
    });
    router->add("GET", prefix + "/roots", [d](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(d->roots())}});
    });
    router->add("GET", prefix + "/federation", [d](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(d->roots())}});
    });
    router->add("GET", prefix + "/roots.pem", [d](const http::Request&) { return pem_bundle(d->roots()); });
    router->add("GET", prefix + "/intermediates", [d](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(d->intermediates())}});
    });
    router->add("GET", prefix + "/intermediates.pem",
                [d](const http::Request&) { return pem_bundle(d->intermediates()); });
    router->add("GET", prefix + "/root/{sha}", [d](const http::Request& req) { return root_by_fingerprint(*d, req); });
    router->add("GET", prefix + "/provisioners", [d](const http::Request& req) { return provisioners(*d, req); });
    router->add("GET", prefix + "/provisioners/{kid}/encrypted-key", [d](const http::Request& req) {
      std::shared_ptr<const std::vector<authority::DirectoryMember>> hold;
      const auto* p = d->find_by_kid(req.params.at("kid"), &hold);
      if (p == nullptr || p->encrypted_key().empty()) {
        return error_response({Errc::not_found, "no provisioner with an encrypted key has that key id"});
      }
      return http::Response::json(200, {{"key", p->encrypted_key()}});
    });
    router->add("POST", prefix + "/sign", [d](const http::Request& req) { return sign(*d, req); });
    for (const char* path : {"/renew", "/re-sign"}) {
      router->add("POST", prefix + path, [d](const http::Request& req) { return renew(*d, req); });
    }
    router->add("POST", prefix + "/revoke", [ctx, d](const http::Request& req) { return revoke(*ctx, *d, req); });
    add_revocation_routes(*router, context, prefix);
  }
  if (context.acme != nullptr) {
    acme::Service* service = context.acme;
    for (std::string prefix : {"", "/2.0"}) {
      for (const char* method : {"GET", "POST"}) {
        router->add(method, prefix + "/acme/{provisioner}/{resource...}",
                    [service](const http::Request& req) { return service->handle(req); });
      }
    }
  }
  return router;
}

}  // namespace keystep::api
