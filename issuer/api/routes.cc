#include "issuer/api/routes.h"

#include <nlohmann/json.hpp>

#include "issuer/api/errors.h"
#include "issuer/common/log.h"
#include "issuer/crypto/certificate.h"

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

http::Response sign(const authority::Authority& authority, const http::Request& req) {
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
  auto issued = authority.sign(sign_request);
  if (!issued) return error_response(issued.error());
  nlohmann::json chain = pem_list(issued->chain);
  nlohmann::json out = {{"crt", issued->leaf.pem()},
                        {"ca", issued->chain.size() > 1 ? nlohmann::json(issued->chain[1].pem()) : nlohmann::json()},
                        {"certChain", std::move(chain)}};
  return http::Response::json(201, out);
}

http::Response provisioners(const authority::Authority& authority, const http::Request& req) {
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
  const auto& all = authority.provisioners();
  nlohmann::json list = nlohmann::json::array();
  std::size_t i = start;
  for (; i < all.size() && list.size() < limit; ++i) list.push_back(all[i].to_json());
  std::string next = i < all.size() ? std::to_string(i) : "";
  return http::Response::json(200, {{"provisioners", std::move(list)}, {"nextCursor", next}});
}

}  // namespace

std::shared_ptr<http::Router> make_router(const authority::Authority& authority, metrics::Metrics* metrics) {
  auto router = std::make_shared<http::Router>();
  if (metrics != nullptr) {
    router->add("GET", "/metrics", [metrics](const http::Request&) {
      return http::Response::text(200, metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    router->set_observer([metrics](const http::Request& req, const http::Response& res) {
      metrics->http_request(req.route.empty() ? "unmatched" : req.route, res.status);
    });
  }
  const authority::Authority* a = &authority;
  for (std::string prefix : {"", "/1.0"}) {
    router->add("GET", prefix + "/health", [a](const http::Request&) {
      if (auto s = a->health(); !s) {
        return http::Response::error(503, "The certificate authority is unavailable: database: " + s.error().message + ".");
      }
      return http::Response::json(200, {{"status", "ok"}});
    });
    router->add("GET", prefix + "/version", [](const http::Request&) {
      return http::Response::json(200, {{"version", kVersion}});
    });
    router->add("GET", prefix + "/roots", [a](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(a->ca()->roots())}});
    });
    router->add("GET", prefix + "/federation", [a](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(a->ca()->roots())}});
    });
    router->add("GET", prefix + "/roots.pem", [a](const http::Request&) { return pem_bundle(a->ca()->roots()); });
    router->add("GET", prefix + "/intermediates", [a](const http::Request&) {
      return http::Response::json(201, {{"crts", pem_list(a->ca()->chain())}});
    });
    router->add("GET", prefix + "/intermediates.pem",
                [a](const http::Request&) { return pem_bundle(a->ca()->chain()); });
    router->add("GET", prefix + "/root/{sha}", [a](const http::Request& req) {
      const std::string sha = crypto::normalize_fingerprint(req.params.at("sha"));
      for (const auto& root : a->ca()->roots()) {
        if (root.sha256_hex() == sha) return http::Response::json(200, {{"ca", root.pem()}});
      }
      return error_response({Errc::not_found, "root certificate with fingerprint \"" + sha + "\" was not found"});
    });
    router->add("GET", prefix + "/provisioners", [a](const http::Request& req) { return provisioners(*a, req); });
    router->add("GET", prefix + "/provisioners/{kid}/encrypted-key", [a](const http::Request& req) {
      const auto* p = a->find_by_kid(req.params.at("kid"));
      if (p == nullptr || p->encrypted_key().empty()) {
        return error_response({Errc::not_found, "no provisioner with an encrypted key has that key id"});
      }
      return http::Response::json(200, {{"key", p->encrypted_key()}});
    });
    router->add("POST", prefix + "/sign", [a](const http::Request& req) { return sign(*a, req); });
  }
  return router;
}

}  // namespace keystep::api
