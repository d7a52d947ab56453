#include "operator/controllers/issuer_ref.h"

#include <catch2/catch.hpp>

#include "operator/controllers/manager.h"

using namespace keystep::controllers;

namespace {
nlohmann::json request(const std::string& group, const std::string& kind, const std::string& name) {
  return {{"metadata", {{"namespace", "team-a"}, {"name", "web-1"}}},
          {"spec", {{"issuerRef", {{"group", group}, {"kind", kind}, {"name", name}}}}}};
}
}  // namespace

TEST_CASE("resolve_issuer_ref skips requests for other issuer groups", "[controllers]") {
  CHECK_FALSE(resolve_issuer_ref(request("cert-manager.io", "ClusterIssuer", "letsencrypt")).ours);
  CHECK_FALSE(resolve_issuer_ref(request("", "Issuer", "ca")).ours);
  CHECK_FALSE(resolve_issuer_ref(request("certmanager.step.sm", "StepClusterIssuer", "x")).ours);
}

TEST_CASE("resolve_issuer_ref puts a StepIssuer in the request's namespace", "[controllers]") {
  auto namespaced = resolve_issuer_ref(request("keystep.dev", "StepIssuer", "internal"));
  REQUIRE(namespaced.ours);
  CHECK(namespaced.error.empty());
  CHECK_FALSE(namespaced.ref.cluster_scoped);
  CHECK(namespaced.ref.ns == "team-a");
  CHECK(namespaced.ref.str() == "StepIssuer/team-a/internal");

  auto cluster = resolve_issuer_ref(request("keystep.dev", "StepClusterIssuer", "internal"));
  REQUIRE(cluster.ours);
  CHECK(cluster.ref.cluster_scoped);
  CHECK(cluster.ref.ns.empty());
  CHECK(cluster.ref.key().str() == "internal");
}

TEST_CASE("resolve_issuer_ref explains a kind this group does not serve", "[controllers]") {
  auto r = resolve_issuer_ref(request("keystep.dev", "ClusterIssuer", "internal"));
  REQUIRE(r.ours);
  CHECK(r.error.find("\"ClusterIssuer\" is not served by keystep.dev") != std::string::npos);
  CHECK_FALSE(resolve_issuer_ref(request("keystep.dev", "StepClusterIssuer", "")).error.empty());
}

TEST_CASE("issuer queue keys round-trip", "[controllers]") {
  for (const IssuerRef& ref : {IssuerRef{true, "", "internal"}, IssuerRef{false, "team-a", "internal"}}) {
    CHECK(parse_issuer_key(issuer_key(ref)) == ref);
  }
}
