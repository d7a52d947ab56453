#include "operator/controllers/manager.h"

#include <unistd.h>

#include "issuer/common/log.h"
#include "operator/controllers/object_meta.h"

namespace keystep::controllers {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("controllers");
  return logger;
}

std::string hostname() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "keystep";
  return host;
}

}  // namespace

std::string issuer_key(const IssuerRef& ref) {
  return ref.cluster_scoped ? "c/" + ref.name : "n/" + ref.ns + "/" + ref.name;
}

IssuerRef parse_issuer_key(const std::string& key) {
  IssuerRef ref;
  if (key.rfind("c/", 0) == 0) {
    ref.cluster_scoped = true;
    ref.name = key.substr(2);
    return ref;
  }
  ref.cluster_scoped = false;
  auto rest = key.substr(2);
  auto slash = rest.find('/');
  ref.ns = rest.substr(0, slash);
  ref.name = slash == std::string::npos ? "" : rest.substr(slash + 1);
  return ref;
}

Manager::Manager(kube::Client& client, storage::Store& store, const common::Clock& clock, metrics::Metrics* metrics,
                 ManagerOptions options)
    : client_(client),
      store_(store),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      cluster_issuers_(client, kube::resources::kStepClusterIssuers),
      issuers_(client, kube::resources::kStepIssuers),
      requests_(client, kube::resources::kCertificateRequests),
      issuer_queue_(kube::WorkQueueOptions{std::chrono::milliseconds(100), std::chrono::seconds(60)}),
      request_queue_(kube::WorkQueueOptions{std::chrono::milliseconds(200), std::chrono::seconds(120)}),
      registry_(options_.directory),
      events_(client, clock, "keystep", hostname()),
      secrets_(client,
               [this](const std::string& ns, const std::string& name) {
                 for (const auto& ref : registry_.referencing(ns, name)) issuer_queue_.add(issuer_key(ref));
               }),
      issuer_reconciler_(IssuerReconcilerDeps{client, cluster_issuers_, issuers_, secrets_, registry_, events_, store,
                                              clock, metrics, options_.dns_names,
                                              [this](const IssuerRef& ref) { enqueue_requests_for(ref); },
                                              [this] { return leading_.load(); }, options_.token_reviewer,
                                              options_.jwks_verifier, options_.reserved_names, options_.reserved_audiences}),
      request_reconciler_(CertificateRequestReconcilerDeps{client, requests_, cluster_issuers_, issuers_, registry_,
                                                           events_, clock, metrics}) {
  auto on_issuer = [this](bool cluster) {
    return [this, cluster](const kube::InformerEvent& e) {
      IssuerRef ref{cluster, cluster ? "" : e.key.ns, e.key.name};
      issuer_queue_.add(issuer_key(ref));
      if (!cluster) return;
      // Provisioner names are unique across cluster issuers: when one comes,
      // goes or changes its spec, the others with provisioners are judged again.
      const bool spec_changed = e.type != kube::InformerEvent::Type::updated ||
                                generation_of(*e.old_object) != generation_of(*e.object);
      if (!spec_changed) return;
      for (const auto& other : cluster_issuers_.list()) {
        const auto name = kube::key_of(other).name;
        if (name == e.key.name) continue;
        const auto spec = other.value("spec", nlohmann::json::object());
        if (spec.contains("provisioners")) issuer_queue_.add(issuer_key({true, "", name}));
      }
    };
  };
  cluster_issuers_.add_handler(on_issuer(true));
  issuers_.add_handler(on_issuer(false));
  requests_.add_handler([this](const kube::InformerEvent& e) {
    if (e.type == kube::InformerEvent::Type::deleted) return;
    if (!resolve_issuer_ref(*e.object).ours) return;  // other issuers' requests never enter the queue
    request_queue_.add(e.key.str());
  });
}

Manager::~Manager() { stop(); }

Status Manager::start() {
  cluster_issuers_.start();
  issuers_.start();
  requests_.start();
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.sync_timeout);
  for (auto* informer : {&cluster_issuers_, &issuers_, &requests_}) {
    if (!informer->wait_for_sync(timeout)) {
      return fail(Errc::unavailable, "cannot list " + informer->type().plural + "." +
                                         (informer->type().group.empty() ? "core" : informer->type().group) +
                                         ": are the CRDs installed and may this service account list them?");
    }
  }
  threads_.emplace_back([this] { issuer_worker(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { request_worker(); });
  if (options_.leader_election) {
    elector_ = std::make_unique<leader::LeaseElector>(client_, options_.lease, metrics_);
    elector_->start([this] { on_started_leading(); }, [this] { on_stopped_leading(); });
  } else {
    on_started_leading();
  }
  log()->info("operator started leader_election={} lease={}/{}", options_.leader_election, options_.lease.ns,
              options_.lease.name);
  return ok();
}

void Manager::stop() {
  if (stopped_.exchange(true)) return;
  if (elector_) elector_->stop();
  leading_ = false;
  issuer_queue_.shutdown();
  request_queue_.shutdown();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  secrets_.stop();
  requests_.stop();
  issuers_.stop();
  cluster_issuers_.stop();
}

void Manager::on_started_leading() {
  // Load every issuer before judging any request against it (a replica
  // that followed has them loaded already; this is for a fresh start).
  for (const auto& object : cluster_issuers_.list()) {
    const auto key = kube::key_of(object);
    (void)reconcile_issuer({true, "", key.name});
  }
  for (const auto& object : issuers_.list()) {
    const auto key = kube::key_of(object);
    (void)reconcile_issuer({false, key.ns, key.name});
  }
  leading_ = true;
  // Queued again now that this replica reports: status and Events follow.
  for (const auto& object : cluster_issuers_.list()) issuer_queue_.add(issuer_key({true, "", kube::key_of(object).name}));
  for (const auto& object : issuers_.list()) {
    const auto key = kube::key_of(object);
    issuer_queue_.add(issuer_key({false, key.ns, key.name}));
  }
  for (const auto& object : requests_.list()) {
    if (resolve_issuer_ref(object).ours) request_queue_.add(kube::key_of(object).str());
  }
}

void Manager::on_stopped_leading() { leading_ = false; }

void Manager::enqueue_requests_for(const IssuerRef& ref) {
  for (const auto& object : requests_.list()) {
    auto resolved = resolve_issuer_ref(object);
    if (resolved.ours && resolved.ref == ref) request_queue_.add(kube::key_of(object).str());
  }
}

void Manager::settle(kube::WorkQueue& queue, const std::string& key, const Outcome& outcome) {
  switch (outcome.kind) {
    case Outcome::Kind::done:
    case Outcome::Kind::permanent:
      queue.forget(key);
      break;
    case Outcome::Kind::requeue_after:
      queue.forget(key);
      queue.add_after(key, outcome.after);
      break;
    case Outcome::Kind::retry:
      queue.add_rate_limited(key);
      break;
  }
  queue.done(key);
}

Outcome Manager::reconcile_issuer(const IssuerRef& ref) {
  std::lock_guard lock(issuer_mu_);
  return issuer_reconciler_.reconcile(ref);
}

void Manager::issuer_worker() {
  // Every replica loads issuers: its HTTP API serves their provisioners.
  while (auto key = issuer_queue_.get()) settle(issuer_queue_, *key, reconcile_issuer(parse_issuer_key(*key)));
}

void Manager::request_worker() {
  while (auto key = request_queue_.get()) {
    if (!leading_) {
      request_queue_.done(*key);
      continue;
    }
    settle(request_queue_, *key, request_reconciler_.reconcile(kube::ObjectKey::parse(*key)));
  }
}

}  // namespace keystep::controllers
