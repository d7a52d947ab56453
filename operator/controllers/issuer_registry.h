#pragma once
// IssuerRegistry holds the issuers the issuer controller has loaded: for each
// StepIssuer/StepClusterIssuer, whether it is Ready, why not, the
// generation it reflects, and the Authority that signs for it. The
// CertificateRequest controller reads it; only the issuer controller writes
// it. A rotated Secret replaces the entry's Authority in one step, so a
// request signs either with the old chain or the new one, never with none.
// Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "issuer/authority/authority.h"
#include "issuer/authority/directory.h"
#include "issuer/config/issuer_spec.h"
#include "operator/controllers/issuer_ref.h"

namespace keystep::controllers {

struct LoadedIssuer {
  IssuerRef ref;
  std::int64_t generation = 0;      // metadata.generation this entry reflects
  bool ready = false;
  std::string reason;               // Ready condition reason
  std::string message;
  config::SecretRef secret;         // the CA Secret it reads
  std::string secret_version;       // resourceVersion of the Secret loaded
  std::shared_ptr<const authority::Authority> authority;  // null until a CA loaded
};

class IssuerRegistry {
 public:
  explicit IssuerRegistry(authority::Directory* directory = nullptr) : directory_(directory) {}

  [[nodiscard]] std::optional<LoadedIssuer> find(const IssuerRef& ref) const;
  void put(LoadedIssuer issuer);
  void remove(const IssuerRef& ref);
  // referencing returns the issuers that read Secret ns/name.
  [[nodiscard]] std::vector<IssuerRef> referencing(const std::string& ns, const std::string& name) const;
  [[nodiscard]] std::vector<LoadedIssuer> all() const;

 private:
  void publish_locked();

  authority::Directory* directory_;  // optional, borrowed
  mutable std::mutex mu_;
  std::map<IssuerRef, LoadedIssuer> issuers_;
};

}  // namespace keystep::controllers
