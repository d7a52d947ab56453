#include "issuer/acme/service.h"

#include "issuer/common/log.h"

namespace keystep::acme {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("acme");
  return logger;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// escape_segment percent-encodes a provisioner name for a URL path.
std::string escape_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

http::Response problem_response(const Problem& problem) {
  http::Response res;
  res.status = problem.status;
  res.body = problem.to_json().dump();
  res.set_header("Content-Type", kProblemContentType);
  return res;
}

http::Response json_response(int status, const nlohmann::json& body, const std::string& location) {
  http::Response res;
  res.status = status;
  res.body = body.dump();
  res.set_header("Content-Type", "application/json");
  if (!location.empty()) res.set_header("Location", location);
  return res;
}

Service::Service(const authority::Directory& directory, storage::Store& store, const common::Clock& clock,
                 const Validator& validator, ServiceOptions options)
    : directory_(directory),
      store_(store),
      clock_(clock),
      validator_(validator),
      options_(options),
      nonces_(store, clock, options.nonce_lifetime),
      queue_(options.validation_threads, [this](const ValidationJob& job) { validate(job); }) {}

Service::~Service() { queue_.stop(); }

http::Response Service::handle(const http::Request& req) {
  const std::string& name = req.params.at("provisioner");
  auto found = directory_.for_acme(name);
  const std::string host = req.header("Host").empty() ? "localhost" : req.header("Host");
  const std::string origin = std::string(req.is_tls ? "https" : "http") + "://" + host;
  const Links links(origin + "/acme/" + escape_segment(name));
  http::Response res;
  if (!found) {
    res = problem_response(not_found("there is no ACME provisioner \"" + name + "\""));
  } else {
    const auto query = req.target.find('?');
    Context ctx{found->first, *found->second, links, origin + req.target.substr(0, query)};
    auto parts = split_path(req.params.count("resource") != 0 ? req.params.at("resource") : "");
    Reply reply;
    try {
      reply = route(ctx, req, parts);
    } catch (const std::exception& e) {
      log()->error("acme request failed path={} error=\"{}\"", req.path, e.what());
      reply = tl::unexpected(server_internal("the request could not be completed; retry"));
    }
    res = reply ? std::move(*reply) : problem_response(reply.error());
    if (!reply && reply.error().status >= 500) {
      log()->warn("acme request failed path={} problem={} detail=\"{}\"", req.path, reply.error().type,
                  reply.error().detail);
    }
  }
  // Every response carries a fresh nonce (RFC 8555 §6.5) and the directory link.
  if (auto nonce = nonces_.issue()) {
    res.set_header("Replay-Nonce", *nonce);
  } else {
    log()->warn("acme nonce not issued error=\"{}\"", nonce.error().message);
  }
  res.headers.emplace_back("Link", "<" + links.directory() + ">;rel=\"index\"");
  if (res.header("Cache-Control").empty()) res.set_header("Cache-Control", "no-store");
  return res;
}

Service::Reply Service::route(const Context& ctx, const http::Request& req, const std::vector<std::string>& parts) {
  const std::string& first = parts.at(0);
  const std::size_t n = parts.size();
  if (req.method != "POST") {
    if (n == 1 && first == "directory") return directory(ctx);
    if (n == 1 && first == "new-nonce") return new_nonce(req);
    if (n == 2 && first == "renewal-info") return renewal_info(ctx, parts[1]);
    Problem p = malformed("use POST (POST-as-GET to read) for this resource");
    p.status = 405;
    return tl::unexpected(p);
  }
  auto signed_with = [&](KeyReference ref) { return authenticate(ctx, req, ref); };
  tl::expected<Caller, Problem> caller = tl::unexpected(not_found("no such ACME resource"));
  if (n == 1 && first == "new-account") {
    caller = signed_with(KeyReference::jwk);
    if (caller) return new_account(ctx, *caller);
  } else if (n == 1 && first == "revoke-cert") {
    caller = signed_with(KeyReference::any);
    if (caller) return revoke_cert(ctx, *caller);
  } else if (n == 1 && (first == "new-order" || first == "key-change")) {
    caller = signed_with(KeyReference::kid);
    if (caller) return first == "new-order" ? new_order(ctx, *caller) : key_change(ctx, *caller);
  } else if (n == 2 && first == "account") {
    caller = signed_with(KeyReference::kid);
    if (caller) return account(ctx, *caller, parts[1]);
  } else if (n == 3 && first == "account" && parts[2] == "orders") {
    caller = signed_with(KeyReference::kid);
    if (caller) return account_orders(ctx, *caller, parts[1]);
  } else if (n == 2 && first == "order") {
    caller = signed_with(KeyReference::kid);
    if (caller) return order(ctx, *caller, parts[1]);
  } else if (n == 3 && first == "order" && parts[2] == "finalize") {
    caller = signed_with(KeyReference::kid);
    if (caller) return finalize(ctx, *caller, parts[1]);
  } else if (n == 2 && first == "authz") {
    caller = signed_with(KeyReference::kid);
    if (caller) return authorization(ctx, *caller, parts[1]);
  } else if (n == 3 && first == "challenge") {
    caller = signed_with(KeyReference::kid);
    if (caller) return challenge(ctx, *caller, parts[1], parts[2]);
  } else if (n == 2 && first == "certificate") {
    caller = signed_with(KeyReference::kid);
    if (caller) return certificate(ctx, *caller, parts[1]);
  } else if (n == 1 && (first == "directory" || first == "new-nonce")) {
    Problem p = malformed("use GET or HEAD for " + first);
    p.status = 405;
    return tl::unexpected(p);
  }
  return tl::unexpected(caller.error());
}

tl::expected<Service::Caller, Problem> Service::authenticate(const Context& ctx, const http::Request& req,
                                                             KeyReference expected) {
  const std::string content_type = req.header("Content-Type");
  if (content_type.rfind(kJoseContentType, 0) != 0) {
    Problem p = malformed("the Content-Type of an ACME request must be application/jose+json");
    p.status = 415;
    return tl::unexpected(p);
  }
  auto request = parse_signed_request(req.body, ctx.request_url, expected);
  if (!request) return tl::unexpected(request.error());
  std::optional<Account> account;
  std::optional<jose::Jwk> key = request->jwk;
  if (!request->kid.empty()) {
    const std::string id = ctx.links.account_id(request->kid);
    if (id.empty()) {
      return tl::unexpected(account_does_not_exist("the JWS kid \"" + request->kid +
                                                   "\" is not an account URL of this provisioner"));
    }
    auto loaded = load_account(ctx, id);
    if (!loaded) return tl::unexpected(loaded.error());
    auto account_key = jose::Jwk::from_json(loaded->jwk);
    if (!account_key) return tl::unexpected(server_internal("the account's stored key is unreadable"));
    key = std::move(*account_key);
    account = std::move(*loaded);
  }
  if (auto bad = verify_signature(*request, *key)) return tl::unexpected(*bad);
  if (auto bad = nonces_.redeem(request->nonce)) return tl::unexpected(*bad);
  return Caller{std::move(*request), std::move(account), std::move(*key)};
}

tl::expected<Account, Problem> Service::load_account(const Context& ctx, const std::string& id) {
  auto object = store_.find_acme_object(storage::AcmeKind::account, id);
  if (!object) return tl::unexpected(store_problem(object.error()));
  if (!object->has_value() || (*object)->provisioner != ctx.config.name) {
    return tl::unexpected(account_does_not_exist("there is no account " + id + " at this provisioner"));
  }
  auto account = Account::from_object(**object);
  if (!account) return tl::unexpected(store_problem(account.error()));
  if (account->status != "valid") {
    // RFC 8555 §7.3.6: a deactivated account's requests are 401 unauthorized.
    Problem p = unauthorized("account " + id + " is " + account->status);
    p.status = 401;
    return tl::unexpected(p);
  }
  return std::move(*account);
}

Problem Service::store_problem(const Error& error) const {
  log()->warn("acme store failed error=\"{}\"", error.message);
  return server_internal(error.code == Errc::unavailable ? "the database is unavailable; retry"
                                                         : "the request could not be completed; retry");
}

Service::Reply Service::directory(const Context& ctx) const {
  const auto& c = ctx.config;
  nlohmann::json meta = {{"externalAccountRequired", c.require_eab}};
  if (!c.terms_of_service.empty()) meta["termsOfService"] = c.terms_of_service;
  if (!c.website.empty()) meta["website"] = c.website;
  if (!c.caa_identities.empty()) meta["caaIdentities"] = c.caa_identities;
  const auto& l = ctx.links;
  return json_response(200, {{"newNonce", l.new_nonce()},
                             {"newAccount", l.new_account()},
                             {"newOrder", l.new_order()},
                             {"revokeCert", l.revoke_cert()},
                             {"keyChange", l.key_change()},
                             {"renewalInfo", l.renewal_info()},
                             {"meta", meta}});
}

Service::Reply Service::new_nonce(const http::Request& req) const {
  // RFC 8555 §7.2: HEAD answers 200, GET 204; the nonce is added by handle().
  http::Response res;
  res.status = req.method == "HEAD" ? 200 : 204;
  return res;
}

}  // namespace keystep::acme
