#include "issuer/config/issuer_spec.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

using namespace keystep;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A StepClusterIssuer as `kubectl get -o json` returns it.
const json kClusterIssuer = json::parse(R"({
  "apiVersion": "keystep.dev/v1alpha1",
  "kind": "StepClusterIssuer",
  "metadata": {"name": "internal", "uid": "5c3e", "generation": 3},
  "spec": {
    "ca": {"secretRef": {"name": "keystep-intermediate", "namespace": "keystep"}},
    "claims": {"defaultDuration": "24h", "minDuration": "5m", "maxDuration": "2160h", "disableRenewal": false},
    "policy": {"allow": {"dns": ["*.svc.cluster.local", "*.internal"], "ip": ["10.0.0.0/8"]}, "deny": {},
               "allowWildcardNames": true, "allowCA": true},
    "provisioners": [
      {"name": "vm-hosts", "type": "JWK",
       "key": {"use": "sig", "kty": "EC", "kid": "k1", "crv": "P-256", "alg": "ES256", "x": "a", "y": "b"},
       "encryptedKey": "e.y.j", "claims": {"maxDuration": "10h", "defaultDuration": "1h"}},
      {"name": "acme", "type": "ACME"},
      {"name": "pods", "type": "K8sSA", "audiences": ["keystep"], "namespaces": ["default", "team-a"],
       "trustDomain": "example.org", "names": ["{serviceAccount}.{namespace}.svc"], "claims": {"defaultDuration": "1h"}}
    ]
  },
  "status": {}
})");

json spec_with(const std::string& pointer, const json& value) {
  json spec = kClusterIssuer["spec"];
  spec[json::json_pointer(pointer)] = value;
  return spec;
}

json spec_without(const std::string& pointer) {
  json spec = kClusterIssuer["spec"];
  json::json_pointer p(pointer);
  spec[p.parent_pointer()].erase(p.back());
  return spec;
}

std::string error_of(const json& spec, bool cluster_scoped = true, const std::string& ns = "") {
  auto r = config::parse_issuer_resource_spec(spec, cluster_scoped, ns);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_argument);
  return r.error().message;
}

}  // namespace

TEST_CASE("parse_issuer_resource_spec reads a StepClusterIssuer's spec as the API server returns it", "[config]") {
  auto r = config::parse_issuer_resource_spec(kClusterIssuer["spec"], true, "");
  REQUIRE(r);
  CHECK(r->ca_secret.name == "keystep-intermediate");
  CHECK(r->ca_secret.ns == "keystep");
  const auto& s = r->spec;
  CHECK(s.claims.default_duration == 24h);
  CHECK(s.claims.min_duration == 5min);
  CHECK(s.claims.max_duration == 2160h);
  CHECK_FALSE(s.claims.disable_renewal);
  CHECK(s.policy.allow.dns == std::vector<std::string>{"*.svc.cluster.local", "*.internal"});
  CHECK(s.policy.allow.ip == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(s.policy.deny.empty());
  CHECK(s.policy.allow_wildcard_names);
  CHECK(s.allow_ca);

  REQUIRE(s.jwk.size() == 1);
  CHECK(s.jwk[0].name == "vm-hosts");
  CHECK(s.jwk[0].key["kid"] == "k1");
  CHECK(s.jwk[0].encrypted_key == "e.y.j");
  REQUIRE(s.jwk[0].claims);
  CHECK(s.jwk[0].claims->max_duration == 10h);
  CHECK(s.jwk[0].claims->min_duration == 5min);  // the issuer's

  REQUIRE(s.acme.size() == 1);
  CHECK(s.acme[0].name == "acme");

  REQUIRE(s.k8ssa.size() == 1);
  const auto& k = s.k8ssa[0];
  CHECK(k.name == "pods");
  CHECK(k.audiences == std::vector<std::string>{"keystep"});
  CHECK(k.namespaces == std::vector<std::string>{"default", "team-a"});
  CHECK(k.trust_domain == "example.org");
  CHECK(k.name_templates == std::vector<std::string>{"{serviceAccount}.{namespace}.svc"});
  REQUIRE(k.claims);
  CHECK(k.claims->default_duration == 1h);
  CHECK(k.claims->max_duration == 2160h);  // the issuer's
}

TEST_CASE("parse_issuer_resource_spec fills in the defaults of a minimal spec", "[config]") {
  auto r = config::parse_issuer_resource_spec(
      json::parse(R"({"ca": {"secretRef": {"name": "ca"}}, "provisioners": [{"name": "p", "type": "k8ssa"}]})"), false,
      "team-a");
  REQUIRE(r);
  CHECK(r->ca_secret.ns == "team-a");
  const auto& s = r->spec;
  CHECK(s.claims.default_duration == 24h);
  CHECK(s.claims.min_duration == 5min);
  CHECK(s.claims.max_duration == 24h);
  CHECK(s.policy.allow.empty());
  CHECK_FALSE(s.policy.allow_wildcard_names);
  CHECK_FALSE(s.allow_ca);
  CHECK(s.jwk.empty());
  CHECK(s.acme.empty());
  REQUIRE(s.k8ssa.size() == 1);
  CHECK(s.k8ssa[0].audiences == std::vector<std::string>{"p"});
  CHECK(s.k8ssa[0].name_templates == provisioners::kDefaultK8sSaNameTemplates);
  CHECK(s.k8ssa[0].trust_domain == "cluster.local");
  CHECK(s.k8ssa[0].namespaces.empty());
  CHECK_FALSE(s.k8ssa[0].claims);
}

TEST_CASE("parse_issuer_resource_spec reads provisioner types without regard to case, JWK by default", "[config]") {
  auto r = config::parse_issuer_resource_spec(json::parse(R"({"ca": {"secretRef": {"name": "ca", "namespace": "k"}},
      "provisioners": [{"name": "a", "type": "jwk", "key": {"kty": "EC"}}, {"name": "b", "key": {"kty": "EC"}},
                       {"name": "c", "type": "K8SSA"}, {"name": "d", "type": "Acme"}]})"),
                                              true, "");
  REQUIRE(r);
  CHECK(r->spec.jwk.size() == 2);
  CHECK(r->spec.k8ssa.size() == 1);
  REQUIRE(r->spec.acme.size() == 1);
  CHECK(r->spec.acme[0].name == "d");
}

TEST_CASE("parse_issuer_resource_spec keeps a StepIssuer to Secrets of its own namespace", "[config]") {
  auto same = config::parse_issuer_resource_spec(kClusterIssuer["spec"], false, "keystep");
  REQUIRE(same);
  CHECK(same->ca_secret.ns == "keystep");
  CHECK_THAT(error_of(kClusterIssuer["spec"], false, "team-a"),
             Catch::Contains("spec.ca.secretRef.namespace: a StepIssuer reads Secrets of its own namespace \"team-a\""));
  CHECK_THAT(error_of(spec_without("/ca/secretRef/namespace"), false, ""), Catch::Contains("metadata.namespace"));
}

TEST_CASE("parse_issuer_resource_spec requires a StepClusterIssuer to name the Secret's namespace", "[config]") {
  CHECK_THAT(error_of(spec_without("/ca/secretRef/namespace")),
             Catch::Contains("spec.ca.secretRef.namespace: is required for a StepClusterIssuer"));
  CHECK_THAT(error_of(spec_with("/ca/secretRef/namespace", "")), Catch::Contains("spec.ca.secretRef.namespace: must not be empty"));
}

TEST_CASE("parse_issuer_resource_spec names the field path of every error", "[config]") {
  CHECK_THAT(error_of(json::array()), Catch::Contains("spec: must be an object"));
  CHECK_THAT(error_of(spec_with("/crl", json::object())), Catch::Contains("spec.crl: unknown field"));
  CHECK_THAT(error_of(spec_without("/ca")), Catch::Contains("spec.ca: is required"));
  CHECK_THAT(error_of(spec_with("/ca/secret", "x")), Catch::Contains("spec.ca.secret: unknown field"));
  CHECK_THAT(error_of(spec_with("/ca/secretRef", nullptr)), Catch::Contains("spec.ca.secretRef: is required"));
  CHECK_THAT(error_of(spec_with("/ca/secretRef/key", "tls.key")), Catch::Contains("spec.ca.secretRef.key: unknown field"));
  CHECK_THAT(error_of(spec_without("/ca/secretRef/name")), Catch::Contains("spec.ca.secretRef.name: is required"));
  CHECK_THAT(error_of(spec_with("/ca/secretRef/name", json::object())),
             Catch::Contains("spec.ca.secretRef.name: must be a string"));

  CHECK_THAT(error_of(spec_with("/claims/maxDuration", "forever")), Catch::Contains("spec.claims.maxDuration: "));
  CHECK_THAT(error_of(spec_with("/claims/maxduration", "1h")), Catch::Contains("spec.claims.maxduration: unknown field"));
  CHECK_THAT(error_of(spec_with("/claims/defaultDuration", "4000h")), Catch::Contains("spec.claims"));
  CHECK_THAT(error_of(spec_with("/claims/disableRenewal", "maybe")),
             Catch::Contains("spec.claims.disableRenewal: must be true or false"));

  CHECK_THAT(error_of(spec_with("/policy/allow/dsn", json::array())), Catch::Contains("spec.policy.allow.dsn: unknown field"));
  CHECK_THAT(error_of(spec_with("/policy/allow/ip/1", "10.0.0.0/33")), Catch::Contains("spec.policy.allow.ip[1]"));
  CHECK_THAT(error_of(spec_with("/policy/deny/dns", "x")), Catch::Contains("spec.policy.deny.dns: must be a list of strings"));
  CHECK_THAT(error_of(spec_with("/policy/allowCA", json::array())), Catch::Contains("spec.policy.allowCA: must be true or false"));

  CHECK_THAT(error_of(spec_with("/provisioners", json::object())), Catch::Contains("spec.provisioners: must be a list"));
  CHECK_THAT(error_of(spec_with("/provisioners/1/type", "OIDC")),
             Catch::Contains("spec.provisioners[1].type: \"OIDC\" is not supported (use JWK, K8sSA or ACME)"));
  CHECK_THAT(error_of(spec_without("/provisioners/2/name")), Catch::Contains("spec.provisioners[2].name: is required"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/name", "vm-hosts")),
             Catch::Contains("spec.provisioners[2].name: \"vm-hosts\" is already used by spec.provisioners[0]"));
  CHECK_THAT(error_of(spec_with("/provisioners/1/name", "")), Catch::Contains("spec.provisioners[1].name: must not be empty"));
  CHECK_THAT(error_of(spec_with("/provisioners/0/keys", json::object())),
             Catch::Contains("spec.provisioners[0].keys: unknown field"));
  CHECK_THAT(error_of(spec_without("/provisioners/0/key")), Catch::Contains("spec.provisioners[0].key: a public JWK is required"));
  CHECK_THAT(error_of(spec_with("/provisioners/0/audiences", json::array({"a"}))),
             Catch::Contains("spec.provisioners[0].audiences: is not a field of a JWK provisioner"));
  CHECK_THAT(error_of(spec_with("/provisioners/1/claims", json::object())),
             Catch::Contains("spec.provisioners[1].claims: is not a field of a ACME provisioner"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/key", json::object())),
             Catch::Contains("spec.provisioners[2].key: is not a field of a K8sSA provisioner"));
  CHECK_THAT(error_of(spec_with("/provisioners/0/claims/minDuration", "2h")),
             Catch::Contains("spec.provisioners[0].claims"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/claims/bogus", true)),
             Catch::Contains("spec.provisioners[2].claims.bogus: unknown field"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/audiences", json::array())),
             Catch::Contains("spec.provisioners[2].audiences: must name at least one audience"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/names/1", "{pod}.x")),
             Catch::Contains("spec.provisioners[2].names[1]: \"{pod}.x\" uses the unknown placeholder {pod}"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/names/0", "{namespace.svc")),
             Catch::Contains("spec.provisioners[2].names[0]: \"{namespace.svc\" has a '{' without '}'"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/names", json::array())),
             Catch::Contains("spec.provisioners[2].names: must hold at least one name template"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/namespaces/1", "Team_A")),
             Catch::Contains("spec.provisioners[2].namespaces[1]: \"Team_A\" is not a namespace name"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/trustDomain", "")),
             Catch::Contains("spec.provisioners[2].trustDomain: must not be empty"));
  CHECK_THAT(error_of(spec_with("/provisioners/2/tokenVerification", "jwks")),
             Catch::Contains("spec.provisioners[2].tokenVerification: \"jwks\" is not TokenReview or JWKS"));
  CHECK_THAT(error_of(spec_with("/provisioners/0/tokenVerification", "JWKS")),
             Catch::Contains("spec.provisioners[0].tokenVerification: is not a field of a JWK provisioner"));
}

TEST_CASE("parse_issuer_spec_yaml reads the CA part of keystep.yaml and leaves other keys to the caller", "[config]") {
  auto node = YAML::Load(R"(
address: 127.0.0.1:9000
claims: {maxDuration: 48h}
policy: {allowCA: true}
provisioners:
  - {name: pods, type: K8sSA}
  - {name: local, type: K8sSA, tokenVerification: JWKS}
  - {name: acme, type: acme}
)");
  auto s = config::parse_issuer_spec_yaml(node);
  REQUIRE(s);
  CHECK(s->claims.max_duration == 48h);
  CHECK(s->allow_ca);
  REQUIRE(s->k8ssa.size() == 2);
  CHECK(s->k8ssa[0].verification == provisioners::K8sSaTokenVerification::token_review);
  CHECK(s->k8ssa[1].verification == provisioners::K8sSaTokenVerification::jwks);
  REQUIRE(s->acme.size() == 1);
  CHECK(s->acme[0].name == "acme");

  auto bad = config::parse_issuer_spec_yaml(YAML::Load("provisioners: [{name: a, type: OIDC}]"));
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::StartsWith("provisioners[0].type: "));
}
