// Orders (RFC 8555 §7.4): newOrder, reading an order, finalize and the
// certificate download.
#include <algorithm>

#include "issuer/acme/service.h"
#include "issuer/common/base64.h"
#include "issuer/common/log.h"
#include "issuer/policy/time_format.h"

namespace keystep::acme {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("acme");
  return logger;
}

// challenges_for lists the challenge types an identifier can be proved
// with: a wildcard only by dns-01, an IP address never by dns-01 (RFC 8738).
std::vector<std::string> challenges_for(const AcmeProvisionerConfig& config, const Identifier& id) {
  std::vector<std::string> out;
  for (const auto& type : config.challenges) {
    if (id.is_wildcard() && type != kDns01) continue;
    if (id.type == "ip" && type == kDns01) continue;
    out.push_back(type);
  }
  return out;
}

// problem_for maps an Authority refusal to the ACME error a client understands.
Problem problem_for(const Error& e) {
  switch (e.code) {
    case Errc::permission_denied:
      return rejected_identifier(e.message);
    case Errc::invalid_argument:
      return bad_csr(e.message);
    default:
      return server_internal(e.message);
  }
}

}  // namespace

tl::expected<Order, Problem> Service::load_order(const Caller& caller, const std::string& id) {
  auto object = store_.find_acme_object(storage::AcmeKind::order, id);
  if (!object) return tl::unexpected(store_problem(object.error()));
  if (!object->has_value()) return tl::unexpected(not_found("there is no order " + id));
  if ((*object)->owner != caller.account->id) return tl::unexpected(unauthorized("order " + id + " is another account's"));
  auto order = Order::from_object(**object);
  if (!order) return tl::unexpected(store_problem(order.error()));
  return std::move(*order);
}

tl::expected<std::vector<Authorization>, Problem> Service::order_authorizations(const Order& order) {
  auto objects = store_.list_acme_objects(storage::AcmeKind::authorization, order.id, true);
  if (!objects) return tl::unexpected(store_problem(objects.error()));
  std::vector<Authorization> out;
  for (const auto& o : *objects) {
    auto a = Authorization::from_object(o);
    if (!a) return tl::unexpected(store_problem(a.error()));
    out.push_back(std::move(*a));
  }
  return out;
}

Service::Reply Service::new_order(const Context& ctx, const Caller& caller) {
  auto payload = caller.request.payload_json();
  if (!payload) return tl::unexpected(payload.error());
  if (!payload->contains("identifiers")) return tl::unexpected(malformed("newOrder needs identifiers"));
  auto identifiers = parse_identifiers((*payload)["identifiers"]);
  if (!identifiers) return tl::unexpected(identifiers.error());

  // Refuse now what could never be issued: names outside the issuer's
  // policy, and identifiers no offered challenge can prove.
  std::vector<Problem> refused;
  for (const auto& id : *identifiers) {
    Problem sub;
    if (challenges_for(ctx.config, id).empty()) {
      sub = rejected_identifier(id.is_wildcard() ? "a wildcard name needs dns-01, which this provisioner does not offer"
                                                 : "no challenge this provisioner offers can prove " + id.value);
    } else {
      policy::Names names;
      (id.type == "dns" ? names.dns : names.ips).push_back(id.value);
      auto allowed = ctx.authority->check_names(names);
      if (allowed) continue;
      sub = rejected_identifier(allowed.error().message);
    }
    sub.identifier = id.to_json();
    refused.push_back(std::move(sub));
  }
  if (!refused.empty()) {
    Problem p = rejected_identifier(refused.size() == 1 ? refused.front().detail
                                                        : std::to_string(refused.size()) + " identifiers are refused");
    p.subproblems = std::move(refused);
    return tl::unexpected(std::move(p));
  }

  const auto now = clock_.now();
  Order order;
  order.id = new_id();
  order.provisioner = ctx.config.name;
  order.account_id = caller.account->id;
  order.created_at = now;
  order.expires = now + ctx.config.order_lifetime;
  order.identifiers = *identifiers;
  std::optional<common::TimePoint> not_before, not_after;
  for (auto [key, field, at] : {std::tuple{"notBefore", &order.not_before, &not_before},
                                std::tuple{"notAfter", &order.not_after, &not_after}}) {
    if (!payload->contains(key)) continue;
    const auto& value = (*payload)[key];
    auto t = value.is_string() ? policy::parse_rfc3339(value.get<std::string>()) : fail(Errc::invalid_argument, "");
    if (!t) return tl::unexpected(malformed(std::string(key) + " must be an RFC 3339 time"));
    *field = policy::format_rfc3339(*t);
    *at = *t;
  }
  if (not_before && not_after && *not_after <= *not_before) {
    return tl::unexpected(malformed("notAfter must be after notBefore"));
  }
  if (payload->contains("replaces")) {
    if (!(*payload)["replaces"].is_string()) return tl::unexpected(malformed("replaces must be a certificate id"));
    order.replaces = (*payload)["replaces"].get<std::string>();
  }

  std::vector<storage::AcmeObject> objects;
  std::vector<Authorization> authorizations;
  for (const auto& id : order.identifiers) {
    Authorization a;
    a.id = new_id();
    a.provisioner = ctx.config.name;
    a.account_id = order.account_id;
    a.order_id = order.id;
    a.identifier = {id.type, id.authorized_value()};
    a.wildcard = id.is_wildcard();
    a.expires = order.expires;
    a.created_at = now;
    for (const auto& type : challenges_for(ctx.config, id)) {
      Challenge c;
      c.id = new_id().substr(0, 12);
      c.type = type;
      c.token = new_id();
      a.challenges.push_back(std::move(c));
    }
    order.authorizations.push_back(a.id);
    authorizations.push_back(std::move(a));
  }
  objects.push_back(order.to_object());
  for (const auto& a : authorizations) objects.push_back(a.to_object());
  if (auto s = store_.insert_acme_objects(objects); !s) return tl::unexpected(store_problem(s.error()));
  log()->info("acme order created provisioner={} account={} order={} identifiers={}", ctx.config.name,
              order.account_id, order.id, order.identifiers.size());
  return json_response(201, order.to_wire(ctx.links, "pending"), ctx.links.order(order.id));
}

Service::Reply Service::order(const Context& ctx, const Caller& caller, const std::string& id) {
  auto order = load_order(caller, id);
  if (!order) return tl::unexpected(order.error());
  auto authorizations = order_authorizations(*order);
  if (!authorizations) return tl::unexpected(authorizations.error());
  for (const auto& a : *authorizations) resume_stale(a);
  const std::string status = order_status(*order, *authorizations, clock_.now());
  auto res = json_response(200, order->to_wire(ctx.links, status));
  if (status == "pending" || status == "processing") res.set_header("Retry-After", "1");
  return res;
}

std::optional<Problem> Service::account_key_in(const crypto::Csr& csr) {
  // RFC 8555 §11.1: a certificate must never carry an ACME account's key.
  auto key = jose::Jwk::from_pkey(csr.public_key());
  if (!key) return bad_csr("the CSR's public key is not usable: " + key.error().message);
  std::vector<std::string> provisioners;
  auto add = [&](const authority::Authority& a) {
    for (const auto& p : a.acme_provisioners()) provisioners.push_back(p.name);
  };
  add(directory_.primary());
  for (const auto& m : *directory_.members()) add(*m.authority);
  for (const auto& name : provisioners) {
    auto found = store_.find_acme_object_by_lookup(storage::AcmeKind::account, account_lookup(name, key->thumbprint()));
    if (!found) return store_problem(found.error());
    if (found->has_value()) return bad_csr("the CSR's public key is an ACME account key; use another key");
  }
  return std::nullopt;
}

Service::Reply Service::finalize(const Context& ctx, const Caller& caller, const std::string& id) {
  auto order = load_order(caller, id);
  if (!order) return tl::unexpected(order.error());
  auto authorizations = order_authorizations(*order);
  if (!authorizations) return tl::unexpected(authorizations.error());
  const std::string status = order_status(*order, *authorizations, clock_.now());
  if (status != "ready") {
    return tl::unexpected(order_not_ready("order " + id + " is " + status + ", not ready: " +
                                          (status == "pending" ? "prove every authorization first"
                                                               : "it cannot be finalized again")));
  }
  auto payload = caller.request.payload_json();
  if (!payload) return tl::unexpected(payload.error());
  const auto& csr_field = payload->value("csr", nlohmann::json());
  if (!csr_field.is_string()) return tl::unexpected(malformed("finalize needs csr, the base64url DER of a CSR"));
  auto der = common::base64url_decode(csr_field.get<std::string>());
  if (!der) return tl::unexpected(bad_csr("csr is not base64url"));
  auto csr = crypto::Csr::from_der(der->data(), der->size());
  if (!csr) return tl::unexpected(bad_csr("csr is not a valid CSR: " + csr.error().message));
  if (auto bad = check_csr(*csr, order->identifiers)) return tl::unexpected(*bad);
  if (auto bad = account_key_in(*csr)) return tl::unexpected(*bad);

  // Take the order: only one request, on any replica, signs it.
  order->status = "processing";
  auto taken = store_.update_acme_object(order->to_object());
  if (!taken) {
    if (taken.error().code == Errc::failed_precondition) {
      return tl::unexpected(order_not_ready("the order is being finalized by another request"));
    }
    return tl::unexpected(store_problem(taken.error()));
  }
  order->version = *taken;

  authority::AcmeSignRequest request{.csr = *csr, .provisioner = ctx.config.name};
  std::string cn = csr->common_name();
  std::transform(cn.begin(), cn.end(), cn.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& i : order->identifiers) {
    (i.type == "dns" ? request.dns : request.ips).push_back(i.value);
    if (!cn.empty() && (i.value == cn || canonical_ip(cn) == i.value)) request.subject = i.value;
  }
  if (request.subject.empty() && ctx.config.force_cn && !request.dns.empty()) request.subject = request.dns.front();
  for (auto [text, field] : {std::pair{&order->not_before, &request.not_before},
                             std::pair{&order->not_after, &request.not_after}}) {
    if (text->empty()) continue;
    auto parsed = policy::parse_time_or_duration(*text);
    if (parsed && *parsed) *field = **parsed;
  }
  request.requester = caller.account->id;
  request.order_id = order->id;
  auto issued = ctx.authority->sign_acme(request);
  if (!issued) {
    Problem problem = problem_for(issued.error());
    // Worth retrying (database, expired intermediate): the order stays ready.
    order->status = issued.error().code == Errc::unavailable || problem.type == "serverInternal" ? "pending" : "invalid";
    if (order->status == "invalid") order->error = problem;
    if (auto s = store_.update_acme_object(order->to_object()); !s) return tl::unexpected(store_problem(s.error()));
    log()->info("acme order refused provisioner={} order={} problem={} detail=\"{}\"", ctx.config.name, order->id,
                problem.type, problem.detail);
    return tl::unexpected(std::move(problem));
  }
  order->status = "valid";
  order->certificate_serial = issued->leaf.serial_decimal();
  order->certificate_chain = crypto::chain_to_pem(issued->chain);
  if (auto s = store_.update_acme_object(order->to_object()); !s) {
    log()->error("acme order not recorded as valid order={} serial={} error=\"{}\"", order->id,
                 order->certificate_serial, s.error().message);
    return tl::unexpected(store_problem(s.error()));
  }
  log()->info("acme order valid provisioner={} account={} order={} serial={}", ctx.config.name, order->account_id,
              order->id, order->certificate_serial);
  return json_response(200, order->to_wire(ctx.links, "valid"), ctx.links.order(order->id));
}

Service::Reply Service::certificate(const Context&, const Caller& caller, const std::string& id) {
  auto order = load_order(caller, id);
  if (!order) return tl::unexpected(order.error());
  if (order->status != "valid" || order->certificate_chain.empty()) {
    return tl::unexpected(not_found("order " + id + " has no certificate"));
  }
  return http::Response::text(200, order->certificate_chain, kPemChainContentType);
}

}  // namespace keystep::acme
