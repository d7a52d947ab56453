#include "cli/zero_work_issuer.h"

#include <openssl/x509v3.h>

#include <algorithm>

#include "issuer/common/base64.h"
#include "issuer/crypto/certificate_builder.h"
#include "issuer/crypto/key.h"
#include "operator/status/conditions.h"

namespace keystep::cli {
namespace {

constexpr char kIssuedMessage[] = "Certificate issued by the zero-work issuer";

std::string base64_of(const std::string& text) { return common::base64_encode(common::to_bytes(text)); }

Result<crypto::Certificate> sign_with(crypto::CertificateBuilder& b, EVP_PKEY* subject_key, EVP_PKEY* issuer_key) {
  const auto now = std::chrono::system_clock::now();
  for (auto s : {b.set_random_serial(), b.set_validity(now - std::chrono::minutes(1), now + std::chrono::hours(24)),
                 b.set_public_key(subject_key)}) {
    if (!s) return tl::unexpected(s.error());
  }
  return b.sign(issuer_key);
}

// make_fixed_chain makes the one CA and leaf every request gets, P-256 like
// the leaves Keystep signs for the bench's CSRs, so both answers weigh the
// same on the wire.
Result<std::pair<crypto::Certificate, crypto::Certificate>> make_fixed_chain() {
  auto ca_key = crypto::generate_key({});
  if (!ca_key) return tl::unexpected(ca_key.error());
  auto leaf_key = crypto::generate_key({});
  if (!leaf_key) return tl::unexpected(leaf_key.error());
  crypto::CertificateBuilder ca_builder;
  for (auto s : {ca_builder.set_self_issued(), ca_builder.set_subject_common_name("Zero-work CA", "Keystep bench"),
                 ca_builder.add_basic_constraints(true, 0), ca_builder.add_key_usage(KU_KEY_CERT_SIGN)}) {
    if (!s) return tl::unexpected(s.error());
  }
  auto ca = sign_with(ca_builder, ca_key->get(), ca_key->get());
  if (!ca) return tl::unexpected(ca.error());
  crypto::CertificateBuilder leaf_builder;
  for (auto s : {leaf_builder.set_subject_common_name("zero-work.bench.internal"), leaf_builder.set_issuer(*ca),
                 leaf_builder.add_basic_constraints(false, -1), leaf_builder.add_key_usage(KU_DIGITAL_SIGNATURE),
                 leaf_builder.add_subject_alt_names({{"zero-work.bench.internal"}, {}, {}, {}}, false)}) {
    if (!s) return tl::unexpected(s.error());
  }
  auto leaf = sign_with(leaf_builder, leaf_key->get(), ca_key->get());
  if (!leaf) return tl::unexpected(leaf.error());
  return std::pair{*leaf, *ca};
}

}  // namespace

Result<std::unique_ptr<ZeroWorkIssuer>> ZeroWorkIssuer::create(kube::Client& client, const kube::Informer& requests,
                                                               int workers, ErrorHandler on_error) {
  auto chain = make_fixed_chain();
  if (!chain) return tl::unexpected(with_context(chain.error(), "zero-work issuer certificate"));
  const auto& [leaf, ca] = *chain;
  std::unique_ptr<ZeroWorkIssuer> issuer(new ZeroWorkIssuer(client, requests, std::move(on_error),
                                                            base64_of(leaf.pem() + ca.pem()), base64_of(ca.pem())));
  for (int i = 0; i < std::max(1, workers); ++i) issuer->threads_.emplace_back([p = issuer.get()] { p->work(); });
  return issuer;
}

ZeroWorkIssuer::ZeroWorkIssuer(kube::Client& client, const kube::Informer& requests, ErrorHandler on_error,
                               std::string certificate_b64, std::string ca_b64)
    : client_(client),
      requests_(requests),
      on_error_(std::move(on_error)),
      certificate_b64_(std::move(certificate_b64)),
      ca_b64_(std::move(ca_b64)),
      queue_(kube::WorkQueueOptions{std::chrono::milliseconds(50), std::chrono::seconds(2)}) {}

ZeroWorkIssuer::~ZeroWorkIssuer() { stop(); }

void ZeroWorkIssuer::offer(const nlohmann::json& cr) {
  if (!kube_status::is_condition_true(cr, "Approved") || kube_status::find_condition(cr, "Ready")) return;
  queue_.add(kube::key_of(cr).str());
}

void ZeroWorkIssuer::stop() {
  queue_.shutdown();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void ZeroWorkIssuer::work() {
  while (auto key = queue_.get()) {
    const auto object_key = kube::ObjectKey::parse(*key);
    std::string error;
    if (issue(object_key, error)) {
      queue_.forget(*key);
    } else if (queue_.retries(*key) + 1 >= kMaxAttempts) {
      queue_.forget(*key);
      on_error_(object_key, "zero-work status patch failed " + std::to_string(kMaxAttempts) + " times: " + error);
    } else {
      queue_.add_rate_limited(*key);
    }
    queue_.done(*key);
  }
}

bool ZeroWorkIssuer::issue(const kube::ObjectKey& key, std::string& error) {
  const auto cr = requests_.get(key);
  // Gone, or already answered: nothing to do.
  if (!cr || !kube_status::is_condition_true(*cr, "Approved") || kube_status::find_condition(*cr, "Ready")) {
    return true;
  }
  const auto conditions =
      cr->value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array());
  const std::string resource_version =
      cr->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  const kube_status::Condition ready{"Ready", "True", "Issued", kIssuedMessage, std::nullopt};
  nlohmann::json patch = {
      {"metadata", {{"resourceVersion", resource_version}}},
      {"status",
       {{"certificate", certificate_b64_},
        {"ca", ca_b64_},
        {"conditions", kube_status::with_condition(conditions, ready, std::chrono::system_clock::now())}}}};
  auto patched = client_.merge_patch(kube::resources::kCertificateRequests, key, patch, "status");
  if (patched || patched.error().code == Errc::not_found) return true;
  // A conflict means a newer version is on its way to the cache: retry
  // against it.
  error = patched.error().message;
  return false;
}

}  // namespace keystep::cli
