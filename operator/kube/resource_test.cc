#include "operator/kube/resource.h"

#include <catch2/catch.hpp>

using namespace keystep::kube;

TEST_CASE("ResourceType builds core and group paths", "[kube]") {
  CHECK(resources::kSecrets.collection_path("keystep") == "/api/v1/namespaces/keystep/secrets");
  CHECK(resources::kSecrets.collection_path("") == "/api/v1/secrets");
  CHECK(resources::kSecrets.object_path("keystep", "foo") == "/api/v1/namespaces/keystep/secrets/foo");
  CHECK(resources::kCertificateRequests.object_path("ns", "cr", "status") ==
        "/apis/cert-manager.io/v1/namespaces/ns/certificaterequests/cr/status");
  CHECK(resources::kLeases.api_version() == "coordination.k8s.io/v1");
  CHECK(resources::kSecrets.api_version() == "v1");
}

TEST_CASE("ResourceType ignores the namespace of a cluster-scoped type", "[kube]") {
  CHECK(resources::kStepClusterIssuers.object_path("ignored", "root") ==
        "/apis/keystep.dev/v1alpha1/stepclusterissuers/root");
  CHECK(resources::kTokenReviews.collection_path("") == "/apis/authentication.k8s.io/v1/tokenreviews");
}

TEST_CASE("ObjectKey parses and prints client-go cache keys", "[kube]") {
  auto namespaced = ObjectKey::parse("keystep/foo");
  CHECK(namespaced.ns == "keystep");
  CHECK(namespaced.name == "foo");
  CHECK(namespaced.str() == "keystep/foo");
  auto cluster = ObjectKey::parse("root");
  CHECK(cluster.ns.empty());
  CHECK(cluster.name == "root");
  CHECK(cluster.str() == "root");
  CHECK(ObjectKey{"a", "b"} < ObjectKey{"b", "a"});
}
