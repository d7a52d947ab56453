// Authorizations and challenges (RFC 8555 §7.5, §8): reading and
// deactivating an authorization, answering a challenge, and the
// validation attempts the ValidationQueue runs.
#include <cmath>

#include "issuer/acme/service.h"
#include "issuer/common/log.h"

namespace keystep::acme {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("acme");
  return logger;
}

std::chrono::steady_clock::time_point steady_at(common::TimePoint when, common::TimePoint now) {
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::max(when - now, common::TimePoint::duration::zero()));
}

}  // namespace

tl::expected<Authorization, Problem> Service::load_authorization(const Caller& caller, const std::string& id) {
  auto object = store_.find_acme_object(storage::AcmeKind::authorization, id);
  if (!object) return tl::unexpected(store_problem(object.error()));
  if (!object->has_value()) return tl::unexpected(not_found("there is no authorization " + id));
  if ((*object)->owner != caller.account->id) {
    return tl::unexpected(unauthorized("authorization " + id + " is another account's"));
  }
  auto a = Authorization::from_object(**object);
  if (!a) return tl::unexpected(store_problem(a.error()));
  return std::move(*a);
}

void Service::resume_stale(const Authorization& a) {
  const auto now = clock_.now();
  for (const auto& c : a.challenges) {
    if (c.status != "processing" || a.status != "pending") continue;
    const auto due = c.next_attempt.value_or(a.created_at);
    if (now - due < options_.stale_after) continue;
    if (queue_.enqueue({a.id, c.id}, std::chrono::steady_clock::now())) {
      log()->info("acme validation resumed authz={} challenge={}", a.id, c.type);
    }
  }
}

Service::Reply Service::authorization(const Context& ctx, const Caller& caller, const std::string& id) {
  auto a = load_authorization(caller, id);
  if (!a) return tl::unexpected(a.error());
  if (!caller.request.post_as_get()) {
    auto payload = caller.request.payload_json();
    if (!payload) return tl::unexpected(payload.error());
    if (payload->value("status", "") != "deactivated") {
      return tl::unexpected(malformed("an authorization's status can only be changed to \"deactivated\""));
    }
    a->status = "deactivated";
    auto v = store_.update_acme_object(a->to_object());
    if (!v) {
      if (v.error().code == Errc::failed_precondition) return tl::unexpected(conflict("the authorization changed meanwhile; retry"));
      return tl::unexpected(store_problem(v.error()));
    }
  } else {
    resume_stale(*a);
  }
  const auto now = clock_.now();
  auto res = json_response(200, a->to_wire(ctx.links, now));
  if (a->current_status(now) == "pending") res.set_header("Retry-After", "1");
  return res;
}

Service::Reply Service::challenge(const Context& ctx, const Caller& caller, const std::string& authz_id,
                                  const std::string& challenge_id) {
  for (int round = 0;; ++round) {
    auto a = load_authorization(caller, authz_id);
    if (!a) return tl::unexpected(a.error());
    Challenge* c = a->find_challenge(challenge_id);
    if (c == nullptr) return tl::unexpected(not_found("authorization " + authz_id + " has no challenge " + challenge_id));
    const auto now = clock_.now();
    const bool respond = !caller.request.post_as_get();
    if (respond && c->status == "pending" && a->current_status(now) == "pending") {
      c->status = "processing";
      c->attempts = 0;
      c->error.reset();
      c->next_attempt = now;
      auto v = store_.update_acme_object(a->to_object());
      if (!v) {
        if (v.error().code == Errc::failed_precondition && round < 3) continue;  // read again
        return tl::unexpected(store_problem(v.error()));
      }
      const ValidationJob job{a->id, c->id};
      const auto seen = queue_.attempts_done(job);
      const bool queued = queue_.enqueue(job, std::chrono::steady_clock::now());
      log()->info("acme challenge started provisioner={} authz={} type={} identifier={}", ctx.config.name, a->id,
                  c->type, a->identifier.value);
      if (queued && options_.first_attempt_wait.count() > 0 &&
          queue_.wait_attempt(job, seen, options_.first_attempt_wait)) {
        auto fresh = load_authorization(caller, authz_id);
        if (fresh && fresh->find_challenge(challenge_id) != nullptr) {
          *a = std::move(*fresh);
          c = a->find_challenge(challenge_id);
        }
      }
    } else {
      resume_stale(*a);
    }
    auto res = json_response(200, c->to_wire(ctx.links, a->id));
    res.headers.emplace_back("Link", "<" + ctx.links.authorization(a->id) + ">;rel=\"up\"");
    if (c->status == "processing") res.set_header("Retry-After", "1");
    return res;
  }
}

void Service::validate(const ValidationJob& job) {
  auto object = store_.find_acme_object(storage::AcmeKind::authorization, job.authorization_id);
  if (!object || !object->has_value()) return;
  auto a = Authorization::from_object(**object);
  if (!a) return;
  Challenge* c = a->find_challenge(job.challenge_id);
  if (c == nullptr || c->status != "processing" || a->status != "pending") return;
  auto found = directory_.for_acme(a->provisioner);
  auto account = store_.find_acme_object(storage::AcmeKind::account, a->account_id);
  if (!account || !account->has_value()) return;
  auto owner = Account::from_object(**account);
  if (!owner) return;

  std::optional<Problem> failure;
  int attempts_allowed = 1;
  std::chrono::milliseconds backoff{0};
  if (!found) {
    failure = unauthorized("the ACME provisioner \"" + a->provisioner + "\" no longer exists");
  } else {
    const auto& config = *found->second;
    attempts_allowed = config.validation.attempts;
    backoff = config.validation.backoff;
    const ChallengeTarget target{c->type, a->identifier.type, a->identifier.value, c->token,
                                 c->token + "." + owner->thumbprint};
    failure = validator_.validate(config.validation, target);
  }
  const auto now = clock_.now();
  ++c->attempts;
  bool retry = false;
  if (!failure) {
    c->status = "valid";
    c->validated = now;
    c->error.reset();
    c->next_attempt.reset();
    a->status = "valid";
  } else if (c->attempts < attempts_allowed && now < a->expires) {
    c->error = failure;
    const auto wait = backoff * static_cast<long>(std::pow(2.0, c->attempts - 1));
    c->next_attempt = now + wait;
    retry = true;
  } else {
    c->status = "invalid";
    c->error = failure;
    c->next_attempt.reset();
    a->status = "invalid";
  }
  auto v = store_.update_acme_object(a->to_object());
  if (!v) {
    // Another request or replica changed the authorization (deactivated
    // it, or validated it first): its state stands.
    log()->info("acme validation result dropped authz={} error=\"{}\"", a->id, v.error().message);
    return;
  }
  if (retry) {
    queue_.requeue(job, steady_at(*c->next_attempt, now));
    log()->info("acme challenge attempt failed authz={} type={} identifier={} attempt={} problem={} detail=\"{}\"",
                a->id, c->type, a->identifier.value, c->attempts, failure->type, failure->detail);
  } else {
    log()->info("acme challenge {} authz={} type={} identifier={} attempts={}{}", c->status, a->id, c->type,
                a->identifier.value, c->attempts, failure ? " detail=\"" + failure->detail + "\"" : std::string());
  }
}

}  // namespace keystep::acme
