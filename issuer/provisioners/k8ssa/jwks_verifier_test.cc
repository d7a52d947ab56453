#include "issuer/provisioners/k8ssa/jwks_verifier.h"

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"

using namespace keystep;
using namespace std::chrono_literals;
using nlohmann::json;
using Catch::Matchers::Contains;

namespace {

constexpr const char* kIssuer = "https://kubernetes.default.svc.cluster.local";

// ApiServer plays the API server's issuer: it signs tokens and publishes
// its keys, and counts how often they are fetched.
struct ApiServer {
  common::FakeClock clock{std::chrono::system_clock::now()};
  std::vector<jose::Jwk> keys;
  int fetches = 0;
  bool reachable = true;

  ApiServer() { rotate(); }

  void rotate() {
    auto key = *jose::Jwk::generate("RSA", 2048, "");
    keys.push_back(key);
  }

  provisioners::JwksVerifier::Fetch fetch() {
    return [this]() -> Result<provisioners::ServiceAccountKeys> {
      ++fetches;
      if (!reachable) return fail(Errc::unavailable, "connection refused");
      json set = {{"keys", json::array()}};
      for (const auto& k : keys) set["keys"].push_back(k.public_json());
      return provisioners::ServiceAccountKeys{kIssuer, set};
    };
  }

  json claims(const std::string& ns = "team", const std::string& sa = "app") const {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    return {{"iss", kIssuer},
            {"aud", {"keystep"}},
            {"sub", "system:serviceaccount:" + ns + ":" + sa},
            {"iat", now},
            {"nbf", now},
            {"exp", now + 600},
            {"kubernetes.io",
             {{"namespace", ns},
              {"serviceaccount", {{"name", sa}, {"uid", "sa-uid"}}},
              {"pod", {{"name", "app-0"}, {"uid", "pod-uid"}}}}}};
  }

  std::string token(const json& c, std::size_t key = 0) const {
    const auto& k = keys.at(key);
    return *jose::sign_compact({{"alg", "RS256"}, {"kid", k.kid()}}, c.dump(), k);
  }
};

}  // namespace

TEST_CASE("jwks verifier: a projected token signed by the issuer keys gives its service account and pod") {
  ApiServer api;
  provisioners::JwksVerifier verifier(api.fetch(), api.clock);
  auto identity = verifier.review(api.token(api.claims()), {"keystep", "other"});
  REQUIRE(identity);
  CHECK(identity->username == "system:serviceaccount:team:app");
  CHECK(identity->audiences == std::vector<std::string>{"keystep"});
  CHECK(identity->pod_name == "app-0");
  CHECK(identity->uid == "sa-uid");
  // The keys are fetched once, not per token.
  REQUIRE(verifier.review(api.token(api.claims()), {"keystep"}));
  CHECK(api.fetches == 1);
}

TEST_CASE("jwks verifier: tampered, foreign, mis-addressed, expired and inconsistent tokens are refused") {
  ApiServer api;
  provisioners::JwksVerifier verifier(api.fetch(), api.clock);
  auto refused = [&](const std::string& token, const std::string& why) {
    auto r = verifier.review(token, {"keystep"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unauthenticated);
    CHECK_THAT(r.error().message, Contains(why));
    CHECK(r.error().message.find(token) == std::string::npos);
  };
  // Another namespace's claims under the same signature.
  std::string good = api.token(api.claims());
  auto forged = api.claims("kube-system", "admin");
  const std::string tampered = good.substr(0, good.find('.')) + "." + common::base64url_encode(forged.dump()) +
                               good.substr(good.rfind('.'));
  refused(tampered, "signature");
  auto stranger = *jose::Jwk::generate("RSA", 2048, "");
  refused(*jose::sign_compact({{"alg", "RS256"}, {"kid", api.keys[0].kid()}}, api.claims().dump(), stranger),
          "signature");
  auto other_issuer = api.claims();
  other_issuer["iss"] = "https://elsewhere";
  refused(api.token(other_issuer), "issuer");
  auto wrong_aud = api.claims();
  wrong_aud["aud"] = {"https://kubernetes.default.svc.cluster.local"};
  refused(api.token(wrong_aud), "audiences");
  auto expired = api.claims();
  expired["exp"] = expired["iat"].get<std::int64_t>() - 61;
  refused(api.token(expired), "expired");
  auto future = api.claims();
  future["nbf"] = future["iat"].get<std::int64_t>() + 3600;
  refused(api.token(future), "not valid yet");
  auto disagree = api.claims();
  disagree["kubernetes.io"]["namespace"] = "kube-system";
  refused(api.token(disagree), "disagree");
  auto legacy = api.claims();
  legacy["iss"] = "kubernetes/serviceaccount";
  refused(api.token(legacy), "legacy");
  refused("not.a.token", "JWT");
  // Within the leeway an expired token still passes, as the API server allows.
  auto just_expired = api.claims();
  just_expired["exp"] = just_expired["iat"].get<std::int64_t>() - 30;
  CHECK(verifier.review(api.token(just_expired), {"keystep"}));
}

TEST_CASE("jwks verifier: a rotated signing key is fetched when a token names it, and an outage keeps the old keys") {
  ApiServer api;
  provisioners::JwksVerifier verifier(api.fetch(), api.clock, {.refresh = 600s, .min_refetch = 10s});
  REQUIRE(verifier.review(api.token(api.claims()), {"keystep"}));
  api.rotate();
  api.clock.advance(11s);
  auto rotated = verifier.review(api.token(api.claims(), 1), {"keystep"});
  INFO((rotated ? "" : rotated.error().message));
  CHECK(rotated);
  CHECK(api.fetches == 2);
  // Unknown kids do not make it fetch on every token.
  auto stranger = *jose::Jwk::generate("RSA", 2048, "");
  for (int i = 0; i < 5; ++i) {
    (void)verifier.review(*jose::sign_compact({{"alg", "RS256"}, {"kid", "unknown"}}, api.claims().dump(), stranger),
                          {"keystep"});
  }
  CHECK(api.fetches == 2);
  // The API server goes away: the cached keys keep verifying past refresh.
  api.reachable = false;
  api.clock.advance(601s);
  CHECK(verifier.review(api.token(api.claims()), {"keystep"}));
  // With no keys at all, it is unavailable (retry), not a bad token.
  provisioners::JwksVerifier cold(api.fetch(), api.clock);
  auto r = cold.review(api.token(api.claims()), {"keystep"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unavailable);
}
