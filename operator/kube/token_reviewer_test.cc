#include "operator/kube/token_reviewer.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::kube;
using nlohmann::json;

namespace {

// ReviewClient answers creates with a scripted TokenReview and records them.
class ReviewClient : public Client {
 public:
  Result<json> answer;
  json last_request;
  std::string last_plural;

  Result<json> get(const ResourceType&, const ObjectKey&) override { return fail(Errc::unimplemented, "get"); }
  Result<ObjectList> list(const ResourceType&, const std::string&, const ListOptions&) override {
    return fail(Errc::unimplemented, "list");
  }
  Result<json> create(const ResourceType& type, const std::string&, const json& object) override {
    last_plural = type.plural;
    last_request = object;
    return answer;
  }
  Result<json> update(const ResourceType&, const json&, const std::string&) override {
    return fail(Errc::unimplemented, "update");
  }
  Result<json> merge_patch(const ResourceType&, const ObjectKey&, const json&, const std::string&) override {
    return fail(Errc::unimplemented, "patch");
  }
  Status remove(const ResourceType&, const ObjectKey&) override { return fail(Errc::unimplemented, "remove"); }
  Result<WatchEnd> watch(const ResourceType&, const std::string&, const WatchOptions&,
                         const std::function<bool(const WatchEvent&)>&, const std::atomic<bool>&) override {
    return fail(Errc::unimplemented, "watch");
  }
  Result<json> raw(const std::string&, const std::string&, const std::optional<json>&) override {
    return fail(Errc::unimplemented, "raw");
  }
  const std::string& default_namespace() const override { return ns_; }

 private:
  std::string ns_ = "default";
};

}  // namespace

TEST_CASE("KubeTokenReviewer sends a TokenReview and reads the identity", "[kube]") {
  ReviewClient client;
  client.answer = json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
    "status": {
      "authenticated": true,
      "audiences": ["keystep"],
      "user": {
        "username": "system:serviceaccount:apps:web",
        "uid": "sa-uid",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:apps"],
        "extra": {
          "authentication.kubernetes.io/pod-name": ["web-0"],
          "authentication.kubernetes.io/pod-uid": ["pod-uid"]
        }
      }
    }})");
  KubeTokenReviewer reviewer(client);
  auto identity = reviewer.review("the-token", {"keystep"});
  REQUIRE(identity);
  CHECK(client.last_plural == "tokenreviews");
  CHECK(client.last_request["apiVersion"] == "authentication.k8s.io/v1");
  CHECK(client.last_request["kind"] == "TokenReview");
  CHECK(client.last_request["spec"]["token"] == "the-token");
  CHECK(client.last_request["spec"]["audiences"] == json::array({"keystep"}));
  CHECK(identity->username == "system:serviceaccount:apps:web");
  CHECK(identity->uid == "sa-uid");
  CHECK(identity->groups.size() == 2);
  CHECK(identity->audiences == std::vector<std::string>{"keystep"});
  CHECK(identity->pod_name == "web-0");
  CHECK(identity->pod_uid == "pod-uid");
}

TEST_CASE("KubeTokenReviewer maps an unauthenticated review to unauthenticated with its error", "[kube]") {
  ReviewClient client;
  client.answer = json{{"status", {{"authenticated", false}, {"error", "token has expired"}}}};
  KubeTokenReviewer reviewer(client);
  auto identity = reviewer.review("old-token", {"keystep"});
  REQUIRE_FALSE(identity);
  CHECK(identity.error().code == Errc::unauthenticated);
  CHECK(identity.error().message == "token has expired");
}

TEST_CASE("KubeTokenReviewer passes API errors through without the token", "[kube]") {
  ReviewClient client;
  client.answer = fail(Errc::unavailable, "create tokenreviews: connection refused");
  KubeTokenReviewer reviewer(client);
  auto identity = reviewer.review("secret-token", {});
  REQUIRE_FALSE(identity);
  CHECK(identity.error().code == Errc::unavailable);
  CHECK_THAT(identity.error().message, !Catch::Contains("secret-token"));
  CHECK(reviewer.review("", {}).error().code == Errc::unauthenticated);
}
