#include "operator/controllers/issuer_controller.h"

#include <algorithm>

#include "issuer/common/log.h"
#include "issuer/policy/time_format.h"
#include "operator/controllers/ca_secret.h"
#include "operator/controllers/object_meta.h"
#include "operator/status/conditions.h"

namespace keystep::controllers {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("controllers");
  return logger;
}

nlohmann::json describe_certificate(const crypto::Certificate& c) {
  return {{"subject", c.subject()}, {"notAfter", kube_status::format_time(c.not_after())}, {"sha256", c.sha256_hex()}};
}

// reason_for names why a CA Secret did not load.
std::string reason_for(const Error& e) {
  return e.code == Errc::failed_precondition ? "SecretIncomplete" : "InvalidSecret";
}

}  // namespace

void IssuerReconciler::record_event(const nlohmann::json& object, kube_status::EventType type, const std::string& reason,
                                    const std::string& message) {
  if (reporting()) d_.events.record(object, type, reason, message);
}

namespace {

// Names the provisioners of a spec serve: their names and K8sSA audiences.
struct ServedNames {
  std::vector<std::string> names;
  std::vector<std::string> audiences;
};

ServedNames served_names(const config::IssuerSpec& spec) {
  ServedNames out;
  for (const auto& p : spec.jwk) out.names.push_back(p.name);
  for (const auto& p : spec.k8ssa) {
    out.names.push_back(p.name);
    out.audiences.insert(out.audiences.end(), p.audiences.begin(), p.audiences.end());
  }
  for (const auto& p : spec.acme) out.names.push_back(p.name);
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::string IssuerReconciler::provisioner_conflict(const nlohmann::json& object, const config::IssuerSpec& spec) const {
  const auto mine = served_names(spec);
  if (mine.names.empty()) return "";
  for (const auto& name : mine.names) {
    if (contains(d_.reserved_names, name)) {
      return "provisioner \"" + name + "\" is already defined in the CA server's keystep.yaml; provisioner names are "
             "unique cluster-wide: rename it";
    }
  }
  for (const auto& aud : mine.audiences) {
    if (contains(d_.reserved_audiences, aud)) {
      return "audience \"" + aud + "\" is already served by a K8sSA provisioner of the CA server's keystep.yaml: "
             "choose another audience";
    }
  }
  const std::string my_name = meta_string(object, "name");
  const auto my_order = std::pair{meta_string(object, "creationTimestamp"), my_name};
  for (const auto& other : d_.cluster_issuers.list()) {
    const std::string other_name = meta_string(other, "name");
    if (other_name == my_name) continue;
    // RFC 3339 UTC timestamps of one format compare as strings.
    if (std::pair{meta_string(other, "creationTimestamp"), other_name} > my_order) continue;  // we came first
    auto other_spec = config::parse_issuer_resource_spec(other.value("spec", nlohmann::json::object()), true, "");
    if (!other_spec) continue;  // an invalid issuer serves nothing
    const auto theirs = served_names(other_spec->spec);
    for (const auto& name : mine.names) {
      if (contains(theirs.names, name)) {
        return "provisioner \"" + name + "\" is already served by StepClusterIssuer " + other_name +
               " (created earlier); provisioner names are unique cluster-wide: rename it";
      }
    }
    for (const auto& aud : mine.audiences) {
      if (contains(theirs.audiences, aud)) {
        return "audience \"" + aud + "\" is already served by a K8sSA provisioner of StepClusterIssuer " + other_name +
               " (created earlier): choose another audience";
      }
    }
  }
  return "";
}

void IssuerReconciler::write_status(const nlohmann::json& object, const IssuerRef& ref, const nlohmann::json& status) {
  if (!reporting()) return;
  nlohmann::json current = object.value("status", nlohmann::json::object());
  nlohmann::json merged = current;
  merged.update(status);
  if (merged == current) return;  // nothing to say
  auto patched = d_.client.merge_patch(ref.type(), ref.key(), {{"status", status}}, "status");
  if (!patched) {
    log()->warn("issuer status not written issuer={} error=\"{}\"", ref.str(), patched.error().message);
  }
}

Outcome IssuerReconciler::not_ready(const nlohmann::json& object, const IssuerRef& ref, std::int64_t generation,
                                    const std::string& reason, const std::string& message, Outcome outcome,
                                    const config::SecretRef& secret) {
  const kube_status::Condition ready{"Ready", "False", reason, message, generation};
  if (!kube_status::same_condition(object, ready)) {
    log()->info("issuer not ready issuer={} reason={} message=\"{}\"", ref.str(), reason, message);
    record_event(object, kube_status::EventType::warning, reason, message);
  }
  const auto conditions = object.value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array());
  write_status(object, ref,
               {{"conditions", kube_status::with_condition(conditions, ready, d_.clock.now())},
                {"observedGeneration", generation}});
  LoadedIssuer entry;
  entry.ref = ref;
  entry.generation = generation;
  entry.ready = false;
  entry.reason = reason;
  entry.message = message;
  entry.secret = secret;
  d_.registry.put(std::move(entry));
  return outcome;
}

Outcome IssuerReconciler::reconcile(const IssuerRef& ref) {
  kube::Informer& informer = ref.cluster_scoped ? d_.cluster_issuers : d_.issuers;
  auto object = informer.get(ref.key());
  if (!object) {
    if (auto old = d_.registry.find(ref)) {
      d_.registry.remove(ref);
      if (d_.registry.referencing(old->secret.ns, old->secret.name).empty()) {
        d_.secrets.forget(old->secret.ns, old->secret.name);
      }
      log()->info("issuer removed issuer={}", ref.str());
    }
    return Outcome::done();
  }
  const std::int64_t generation = generation_of(*object);
  const auto spec = config::parse_issuer_resource_spec(object->value("spec", nlohmann::json::object()),
                                                       ref.cluster_scoped, ref.ns);
  if (!spec) return not_ready(*object, ref, generation, "InvalidSpec", spec.error().message, Outcome::permanent());
  if (!ref.cluster_scoped && !served_names(spec->spec).names.empty()) {
    return not_ready(*object, ref, generation, "InvalidSpec",
                     "spec.provisioners: a StepIssuer signs CertificateRequests only; provisioners for the HTTP API "
                     "belong in a StepClusterIssuer",
                     Outcome::permanent());
  }
  if (ref.cluster_scoped) {
    if (auto conflict = provisioner_conflict(*object, spec->spec); !conflict.empty()) {
      // Re-run when the other issuer changes or goes (the manager requeues).
      return not_ready(*object, ref, generation, "ProvisionerConflict", conflict, Outcome::done());
    }
  }
  const auto& secret_ref = spec->ca_secret;
  const std::string secret_name = "Secret " + secret_ref.ns + "/" + secret_ref.name;

  auto secret = d_.secrets.get(secret_ref.ns, secret_ref.name);
  if (!secret) {
    return not_ready(*object, ref, generation, "SecretUnavailable", secret.error().message, Outcome::retry(),
                     secret_ref);
  }
  if (!*secret) {
    // The Secret's watch re-runs this reconcile when it appears.
    return not_ready(*object, ref, generation, "SecretNotFound",
                     secret_name + " not found: create it from the intermediate-secret.yaml that `keystep init` wrote",
                     Outcome::done(), secret_ref);
  }
  const auto now = d_.clock.now();
  const auto previous = d_.registry.find(ref);
  const std::string secret_version = meta_string(**secret, "resourceVersion");
  std::shared_ptr<const authority::Authority> authority;
  std::string rejected;  // a rotated Secret that did not load, while the old chain keeps signing
  if (previous && previous->authority && previous->generation == generation &&
      previous->secret_version == secret_version && previous->secret.ns == secret_ref.ns &&
      previous->secret.name == secret_ref.name) {
    authority = previous->authority;  // nothing changed
  } else {
    auto ca = load_ca_secret(**secret, now);
    if (!ca) {
      const std::string message = secret_name + ": " + ca.error().message;
      const bool can_keep = previous && previous->authority && previous->ready && previous->generation == generation &&
                            previous->secret.ns == secret_ref.ns && previous->secret.name == secret_ref.name;
      if (!can_keep) return not_ready(*object, ref, generation, reason_for(ca.error()), message, Outcome::done(), secret_ref);
      authority = previous->authority;
      rejected = message;
      log()->warn("issuer secret rejected, keeping the previous intermediate issuer={} error=\"{}\"", ref.str(),
                  ca.error().message);
      record_event(*object, kube_status::EventType::warning, "SecretRejected",
                       "The updated " + rejected + "; still signing with the previous intermediate");
    } else {
      authority::AuthorityOptions options;
      options.dns_names = d_.dns_names.empty() ? std::vector<std::string>{"keystep"} : d_.dns_names;
      options.claims = spec->spec.claims;
      options.policy = spec->spec.policy;
      options.allow_ca = spec->spec.allow_ca;
      options.provisioners = spec->spec.jwk;
      options.k8ssa = spec->spec.k8ssa;
      options.acme = spec->spec.acme;
      options.token_reviewer = d_.token_reviewer;
      options.jwks_verifier = d_.jwks_verifier;
      auto created = authority::Authority::create(std::move(options), *ca, d_.clock, d_.store, d_.metrics);
      if (!created) {
        return not_ready(*object, ref, generation, "InvalidSpec", created.error().message, Outcome::permanent(),
                         secret_ref);
      }
      authority = std::move(*created);
      const auto& intermediate = authority->ca()->intermediate();
      const bool rotated = previous && previous->authority &&
                           previous->authority->ca()->intermediate().sha256_hex() != intermediate.sha256_hex();
      if (rotated) {
        log()->info("issuer intermediate rotated issuer={} intermediate=\"{}\" not_after={}", ref.str(),
                    intermediate.subject(), policy::format_rfc3339(intermediate.not_after()));
        record_event(*object, kube_status::EventType::normal, "IntermediateRotated",
                         "Now signing with " + intermediate.subject() + " (sha256 " + intermediate.sha256_hex() +
                             ", expires " + kube_status::format_time(intermediate.not_after()) + ")");
      }
    }
  }

  const auto ca = authority->ca();
  const auto& intermediate = ca->intermediate();
  const auto remaining = intermediate.not_after() - now;
  nlohmann::json conditions = object->value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array());
  const std::string expires = kube_status::format_time(intermediate.not_after());
  std::string message = "Signing with " + intermediate.subject() + " (expires " + expires + ")";
  std::string reason = "Ready";
  if (!rejected.empty()) {
    reason = "SecretRejected";
    message += "; the updated " + rejected;
  }
  const kube_status::Condition ready{"Ready", "True", reason, message, generation};
  const bool became_ready = !kube_status::is_condition_true(*object, "Ready") || !previous || !previous->ready;
  if (!kube_status::same_condition(*object, ready) && rejected.empty()) {
    log()->info("issuer ready issuer={} intermediate=\"{}\" not_after={}", ref.str(), intermediate.subject(), expires);
    record_event(*object, kube_status::EventType::normal, "Ready", message);
  }
  conditions = kube_status::with_condition(conditions, ready, now);
  Outcome outcome;
  if (remaining <= kExpiryWarning) {
    const std::string warning = "The intermediate " + intermediate.subject() + " expires at " + expires +
                                ": rotate it (update " + secret_name + ")";
    const kube_status::Condition expiring{"IntermediateExpiring", "True", "ExpiresSoon", warning, generation};
    if (!kube_status::same_condition(*object, expiring)) {
      log()->warn("issuer intermediate expiring issuer={} not_after={}", ref.str(), expires);
      record_event(*object, kube_status::EventType::warning, "IntermediateExpiring", warning);
    }
    conditions = kube_status::with_condition(conditions, expiring, now);
    // Check again at expiry (or daily): the Secret load then fails, Ready goes False.
    outcome = Outcome::requeue_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::clamp<common::TimePoint::duration>(remaining, std::chrono::seconds(1), std::chrono::hours(24))));
  } else {
    if (kube_status::find_condition(*object, "IntermediateExpiring")) {
      conditions = kube_status::with_condition(
          conditions, {"IntermediateExpiring", "False", "NotExpiring", "The intermediate expires at " + expires, generation},
          now);
    }
    outcome = Outcome::requeue_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<common::TimePoint::duration>(remaining - kExpiryWarning, std::chrono::hours(24))));
  }
  nlohmann::json status = {{"conditions", conditions},
                           {"observedGeneration", generation},
                           {"intermediate", describe_certificate(intermediate)}};
  if (!ca->roots().empty()) status["root"] = describe_certificate(ca->roots().front());
  write_status(*object, ref, status);

  LoadedIssuer entry;
  entry.ref = ref;
  entry.generation = generation;
  entry.ready = true;
  entry.reason = reason;
  entry.message = message;
  entry.secret = secret_ref;
  entry.secret_version = rejected.empty() ? secret_version : previous->secret_version;
  entry.authority = authority;
  d_.registry.put(std::move(entry));
  if (became_ready && d_.on_ready) d_.on_ready(ref);
  return outcome;
}

}  // namespace keystep::controllers
