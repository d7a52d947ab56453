#include "operator/controllers/secret_watches.h"

namespace keystep::controllers {

SecretWatches::~SecretWatches() { stop(); }

Result<std::optional<nlohmann::json>> SecretWatches::get(const std::string& ns, const std::string& name) {
  kube::Informer* informer = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = informers_[ns + "/" + name];
    if (!slot) {
      kube::InformerOptions options;
      options.ns = ns;
      options.field_selector = "metadata.name=" + name;
      slot = std::make_unique<kube::Informer>(client_, kube::resources::kSecrets, options);
      slot->add_handler([this, ns, name](const kube::InformerEvent&) { on_change_(ns, name); });
      slot->start();
    }
    informer = slot.get();
  }
  if (!informer->wait_for_sync(std::chrono::seconds(5))) {
    return fail(Errc::unavailable, "cannot read Secret " + ns + "/" + name +
                                       " (is the operator allowed to get, list and watch it?)");
  }
  return informer->get({ns, name});
}

void SecretWatches::forget(const std::string& ns, const std::string& name) {
  std::unique_ptr<kube::Informer> gone;
  {
    std::lock_guard lock(mu_);
    auto it = informers_.find(ns + "/" + name);
    if (it == informers_.end()) return;
    gone = std::move(it->second);
    informers_.erase(it);
  }
  gone->stop();
}

void SecretWatches::stop() {
  std::map<std::string, std::unique_ptr<kube::Informer>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(informers_);
  }
  for (auto& [key, informer] : all) informer->stop();
}

}  // namespace keystep::controllers
