#include "operator/controllers/certificate_request_controller.h"

#include "issuer/common/base64.h"
#include "issuer/common/duration.h"
#include "issuer/common/log.h"
#include "issuer/crypto/certificate.h"
#include "operator/controllers/object_meta.h"
#include "operator/status/conditions.h"

namespace keystep::controllers {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("controllers");
  return logger;
}

}  // namespace

Outcome CertificateRequestReconciler::write(const nlohmann::json& cr, const std::string& status,
                                            const std::string& reason, const std::string& message,
                                            nlohmann::json extra, Outcome outcome, const char* metric) {
  const kube_status::Condition ready{"Ready", status, reason, message, std::nullopt};
  const bool changed = !kube_status::same_condition(cr, ready);
  if (!changed && extra.empty()) return outcome;
  const auto now = d_.clock.now();
  const auto conditions = cr.value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array());
  nlohmann::json new_status = extra;
  new_status["conditions"] = kube_status::with_condition(conditions, ready, now);
  if (new_status.contains("invalidRequest")) {
    new_status.erase("invalidRequest");
    new_status["conditions"] = kube_status::with_condition(
        new_status["conditions"], {"InvalidRequest", "True", reason, message, std::nullopt}, now);
  }
  if (reason == "Failed" || reason == "Denied") new_status["failureTime"] = kube_status::format_time(now);
  // resourceVersion makes the write conditional: a request that changed
  // meanwhile (an approval racing a denial) is re-read first.
  nlohmann::json patch = {{"metadata", {{"resourceVersion", meta_string(cr, "resourceVersion")}}}, {"status", new_status}};
  const kube::ObjectKey key{meta_string(cr, "namespace"), meta_string(cr, "name")};
  auto patched = d_.client.merge_patch(kube::resources::kCertificateRequests, key, patch, "status");
  if (!patched) {
    if (!kube::is_conflict(patched.error()) && patched.error().code != Errc::not_found) {
      log()->warn("certificaterequest status not written namespace={} name={} error=\"{}\"", key.ns, key.name,
                  patched.error().message);
    }
    return patched.error().code == Errc::not_found ? Outcome::done() : Outcome::retry();
  }
  if (changed) {
    const auto type = status == "True" ? kube_status::EventType::normal : kube_status::EventType::warning;
    d_.events.record(cr, type, reason, message);
    if (d_.metrics != nullptr && metric != nullptr) d_.metrics->certificate_request(metric);
  }
  return outcome;
}

Outcome CertificateRequestReconciler::reconcile(const kube::ObjectKey& key) {
  auto found = d_.requests.get(key);
  if (!found) return Outcome::done();
  const nlohmann::json& cr = *found;
  const auto resolved = resolve_issuer_ref(cr);
  if (!resolved.ours) return Outcome::done();
  if (auto ready = kube_status::find_condition(cr, "Ready");
      ready && (ready->status == "True" || ready->reason == "Failed" || ready->reason == "Denied")) {
    return Outcome::done();
  }
  if (kube_status::find_condition(cr, "InvalidRequest") && kube_status::is_condition_true(cr, "InvalidRequest")) {
    return Outcome::done();
  }
  if (kube_status::is_condition_true(cr, "Denied")) {
    const auto denied = kube_status::find_condition(cr, "Denied");
    std::string message = "The CertificateRequest was denied by an approval controller";
    if (denied && !denied->message.empty()) message += ": " + denied->message;
    log()->info("certificaterequest denied namespace={} name={}", key.ns, key.name);
    return write(cr, "False", "Denied", message, nlohmann::json::object(), Outcome::done(), "denied");
  }
  if (!kube_status::is_condition_true(cr, "Approved")) return Outcome::done();  // wait for the approver

  if (!resolved.error.empty()) {
    return write(cr, "False", "Failed", resolved.error, {{"invalidRequest", true}}, Outcome::permanent(), "failed");
  }
  const IssuerRef& ref = resolved.ref;
  const auto live = (ref.cluster_scoped ? d_.cluster_issuers : d_.issuers).get(ref.key());
  if (!live) {
    return write(cr, "False", "Pending", "Waiting for " + ref.str() + ": it does not exist", nlohmann::json::object(),
                 Outcome::retry(), "pending");
  }
  const auto loaded = d_.registry.find(ref);
  if (!loaded || loaded->generation != generation_of(*live)) {
    return write(cr, "False", "Pending", "Waiting for " + ref.str() + " to be checked", nlohmann::json::object(),
                 Outcome::retry(), "pending");
  }
  if (!loaded->ready || !loaded->authority) {
    return write(cr, "False", "Pending",
                 "Waiting for " + ref.str() + " to be Ready: " + loaded->reason + ": " + loaded->message,
                 nlohmann::json::object(), Outcome::retry(), "pending");
  }

  const auto spec = cr.value("spec", nlohmann::json::object());
  authority::CsrSignRequest request;
  auto csr = common::base64_decode(spec.value("request", ""));
  if (!csr || csr->empty()) {
    return write(cr, "False", "Failed", "spec.request is not a base64 PEM certificate signing request",
                 {{"invalidRequest", true}}, Outcome::permanent(), "failed");
  }
  request.csr_pem.assign(csr->begin(), csr->end());
  if (auto d = spec.find("duration"); d != spec.end() && d->is_string() && !d->get<std::string>().empty()) {
    auto parsed = common::parse_duration(d->get<std::string>());
    if (!parsed) {
      return write(cr, "False", "Failed", "spec.duration: " + parsed.error().message, {{"invalidRequest", true}},
                   Outcome::permanent(), "failed");
    }
    request.duration = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
  }
  request.is_ca = spec.value("isCA", false);
  for (const auto& u : spec.value("usages", nlohmann::json::array())) {
    if (u.is_string()) request.usages.push_back(u.get<std::string>());
  }
  request.requester = spec.value("username", "");
  request.request_id = meta_string(cr, "uid");
  request.provisioner = ref.str();

  auto issued = loaded->authority->sign_certificate_request(request);
  if (!issued) {
    const auto& e = issued.error();
    switch (e.code) {
      case Errc::invalid_argument:
        return write(cr, "False", "Failed", "The request was rejected: " + e.message, {{"invalidRequest", true}},
                     Outcome::permanent(), "failed");
      case Errc::permission_denied:
      case Errc::unauthenticated:
      case Errc::unimplemented:
        return write(cr, "False", "Failed", ref.str() + " refused the request: " + e.message,
                     nlohmann::json::object(), Outcome::permanent(), "failed");
      default:
        // Database or CA state: transient. Never Failed: cert-manager would
        // back off renewal for an hour or more.
        return write(cr, "False", "Pending", "Signing failed, retrying: " + e.message, nlohmann::json::object(),
                     Outcome::retry(), "pending");
    }
  }
  const auto ca = loaded->authority->ca();
  std::string chain = crypto::chain_to_pem(issued->chain);
  std::string roots = crypto::chain_to_pem(ca->roots());
  const std::string serial = issued->leaf.serial_hex();
  log()->info("certificaterequest issued namespace={} name={} serial={} issuer={} not_after={}", key.ns, key.name,
              serial, ref.str(), kube_status::format_time(issued->leaf.not_after()));
  nlohmann::json extra = {{"certificate", common::base64_encode(common::to_bytes(chain))},
                          {"ca", common::base64_encode(common::to_bytes(roots))}};
  return write(cr, "True", "Issued",
               "Certificate issued by " + ref.str() + " (serial " + serial + ", expires " +
                   kube_status::format_time(issued->leaf.not_after()) + ")",
               std::move(extra), Outcome::done(), "issued");
}

}  // namespace keystep::controllers
