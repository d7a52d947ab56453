#include "operator/controllers/issuer_ref.h"

namespace keystep::controllers {

ResolvedIssuerRef resolve_issuer_ref(const nlohmann::json& cr) {
  ResolvedIssuerRef out;
  const auto spec = cr.value("spec", nlohmann::json::object());
  const auto ref = spec.value("issuerRef", nlohmann::json::object());
  if (ref.value("group", "") != kGroup) return out;
  out.ours = true;
  const std::string kind = ref.value("kind", "");
  out.ref.name = ref.value("name", "");
  if (kind == "StepClusterIssuer") {
    out.ref.cluster_scoped = true;
  } else if (kind == "StepIssuer" || kind.empty()) {
    out.ref.cluster_scoped = false;
    out.ref.ns = cr.value("metadata", nlohmann::json::object()).value("namespace", "");
  } else {
    out.error = "issuerRef.kind \"" + kind + "\" is not served by " + kGroup + " (use StepIssuer or StepClusterIssuer)";
  }
  if (out.error.empty() && out.ref.name.empty()) out.error = "issuerRef.name is empty";
  return out;
}

}  // namespace keystep::controllers
