// Accounts (RFC 8555 §7.3): newAccount, account update and deactivation,
// the orders list and keyChange.
#include "issuer/acme/eab.h"
#include "issuer/acme/service.h"
#include "issuer/common/log.h"

namespace keystep::acme {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("acme");
  return logger;
}

// check_contacts accepts mailto: URLs with one address each (RFC 8555 §7.3).
std::optional<Problem> check_contacts(const nlohmann::json& contact, std::vector<std::string>* out) {
  if (!contact.is_array()) return malformed("contact must be an array of URLs");
  out->clear();
  for (const auto& c : contact) {
    if (!c.is_string()) return malformed("contact must be an array of URLs");
    const std::string url = c.get<std::string>();
    if (url.rfind("mailto:", 0) != 0) return unsupported_contact("only mailto: contacts are supported, not \"" + url + "\"");
    const std::string address = url.substr(7);
    const auto at = address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= address.size() ||
        address.find_first_of(",?; \t\r\n<>") != std::string::npos || address.size() > 254) {
      return invalid_contact("\"" + url + "\" is not one email address");
    }
    out->push_back(url);
  }
  if (out->size() > 10) return malformed("at most 10 contacts");
  return std::nullopt;
}

}  // namespace

Service::Reply Service::new_account(const Context& ctx, const Caller& caller) {
  auto payload = caller.request.payload_json();
  if (!payload) return tl::unexpected(payload.error());
  const std::string thumbprint = caller.key.thumbprint();
  const std::string lookup = account_lookup(ctx.config.name, thumbprint);
  auto existing = store_.find_acme_object_by_lookup(storage::AcmeKind::account, lookup);
  if (!existing) return tl::unexpected(store_problem(existing.error()));
  auto answer_existing = [&](const storage::AcmeObject& object) -> Reply {
    auto account = Account::from_object(object);
    if (!account) return tl::unexpected(store_problem(account.error()));
    if (account->status != "valid") return tl::unexpected(unauthorized("the account of this key is " + account->status));
    return json_response(200, account->to_wire(ctx.links), ctx.links.account(account->id));
  };
  if (existing->has_value()) return answer_existing(**existing);
  if (payload->value("onlyReturnExisting", false)) {
    return tl::unexpected(account_does_not_exist("no account exists for this key"));
  }

  Account account;
  account.id = new_id();
  account.provisioner = ctx.config.name;
  account.jwk = caller.key.public_json();
  account.thumbprint = thumbprint;
  account.created_at = clock_.now();
  if (payload->contains("contact")) {
    if (auto bad = check_contacts((*payload)["contact"], &account.contact)) return tl::unexpected(*bad);
  }
  if (payload->contains("termsOfServiceAgreed")) {
    if (!(*payload)["termsOfServiceAgreed"].is_boolean()) return tl::unexpected(malformed("termsOfServiceAgreed must be a boolean"));
    account.terms_of_service_agreed = (*payload)["termsOfServiceAgreed"].get<bool>();
  }
  std::vector<storage::AcmeObject> objects;
  if (ctx.config.require_eab) {
    if (!payload->contains("externalAccountBinding")) {
      return tl::unexpected(external_account_required("this provisioner requires an External Account Binding"));
    }
    auto key_id = verify_eab((*payload)["externalAccountBinding"], ctx.links.new_account(), caller.key, ctx.config);
    if (!key_id) return tl::unexpected(key_id.error());
    account.eab_key_id = *key_id;
    storage::AcmeObject binding;
    binding.kind = storage::AcmeKind::eab_binding;
    binding.id = ctx.config.name + "/" + *key_id;
    binding.provisioner = ctx.config.name;
    binding.owner = account.id;
    binding.status = "valid";
    binding.document = "{}";
    binding.created_at = account.created_at;
    objects.push_back(std::move(binding));
  }
  objects.insert(objects.begin(), account.to_object());
  if (auto s = store_.insert_acme_objects(objects); !s) {
    if (s.error().code != Errc::already_exists) return tl::unexpected(store_problem(s.error()));
    // Another request made the account of this key first, or the EAB key is used.
    auto again = store_.find_acme_object_by_lookup(storage::AcmeKind::account, lookup);
    if (again && again->has_value()) return answer_existing(**again);
    return tl::unexpected(unauthorized("the External Account Binding key \"" + account.eab_key_id +
                                       "\" is already bound to another account"));
  }
  log()->info("acme account created provisioner={} account={} eab={}", ctx.config.name, account.id,
              account.eab_key_id.empty() ? "-" : account.eab_key_id);
  return json_response(201, account.to_wire(ctx.links), ctx.links.account(account.id));
}

Service::Reply Service::account(const Context& ctx, const Caller& caller, const std::string& id) {
  Account account = *caller.account;
  if (account.id != id) return tl::unexpected(unauthorized("the JWS kid is not the account of this URL"));
  if (caller.request.post_as_get()) return json_response(200, account.to_wire(ctx.links));
  auto payload = caller.request.payload_json();
  if (!payload) return tl::unexpected(payload.error());
  bool changed = false;
  if (payload->contains("status")) {
    if ((*payload)["status"] != "deactivated") {
      return tl::unexpected(malformed("an account's status can only be changed to \"deactivated\""));
    }
    account.status = "deactivated";
    changed = true;
  }
  if (payload->contains("contact")) {
    if (auto bad = check_contacts((*payload)["contact"], &account.contact)) return tl::unexpected(*bad);
    changed = true;
  }
  if (changed) {
    auto version = store_.update_acme_object(account.to_object());
    if (!version) {
      if (version.error().code == Errc::failed_precondition) {
        Problem p = malformed("the account changed meanwhile; retry");
        p.status = 409;
        return tl::unexpected(p);
      }
      return tl::unexpected(store_problem(version.error()));
    }
    log()->info("acme account updated provisioner={} account={} status={}", ctx.config.name, id, account.status);
  }
  return json_response(200, account.to_wire(ctx.links));
}

Service::Reply Service::account_orders(const Context& ctx, const Caller& caller, const std::string& id) {
  if (caller.account->id != id) return tl::unexpected(unauthorized("the JWS kid is not the account of this URL"));
  auto orders = store_.list_acme_objects(storage::AcmeKind::order, id);
  if (!orders) return tl::unexpected(store_problem(orders.error()));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : *orders) list.push_back(ctx.links.order(o.id));
  return json_response(200, {{"orders", list}});
}

Service::Reply Service::key_change(const Context& ctx, const Caller& caller) {
  auto payload = nlohmann::json::parse(caller.request.jws.payload, nullptr, false);
  auto inner = parse_inner_jws(payload, ctx.request_url, true);
  if (!inner) return tl::unexpected(inner.error());
  if (auto s = jose::verify(inner->jws, *inner->jwk); !s) {
    return tl::unexpected(malformed("the inner JWS signature does not verify with its jwk"));
  }
  auto body = nlohmann::json::parse(inner->jws.payload, nullptr, false);
  Account account = *caller.account;
  if (!body.is_object() || body.value("account", "") != ctx.links.account(account.id)) {
    return tl::unexpected(malformed("the inner payload's account must be the URL of the signing account"));
  }
  auto old_key = body.contains("oldKey") ? jose::Jwk::from_json(body["oldKey"]) : fail(Errc::invalid_argument, "");
  if (!old_key || old_key->thumbprint() != account.thumbprint) {
    return tl::unexpected(malformed("the inner payload's oldKey is not the account's current key"));
  }
  const std::string thumbprint = inner->jwk->thumbprint();
  auto taken = store_.find_acme_object_by_lookup(storage::AcmeKind::account, account_lookup(ctx.config.name, thumbprint));
  if (!taken) return tl::unexpected(store_problem(taken.error()));
  auto in_use = [&](const std::string& other) -> Reply {
    http::Response res = problem_response(conflict("the new key is already the key of another account"));
    res.set_header("Location", ctx.links.account(other));
    return res;
  };
  if (taken->has_value()) return in_use((*taken)->id);
  account.jwk = inner->jwk->public_json();
  account.thumbprint = thumbprint;
  auto version = store_.update_acme_object(account.to_object());
  if (!version) {
    if (version.error().code == Errc::already_exists) return in_use("");
    if (version.error().code == Errc::failed_precondition) {
      Problem p = malformed("the account changed meanwhile; retry");
      p.status = 409;
      return tl::unexpected(p);
    }
    return tl::unexpected(store_problem(version.error()));
  }
  log()->info("acme account key changed provisioner={} account={}", ctx.config.name, account.id);
  return json_response(200, account.to_wire(ctx.links));
}

}  // namespace keystep::acme
