// ACME provisioner fields in keystep.yaml and in an issuer spec.

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "issuer/config/issuer_spec.h"

namespace keystep {
namespace {

using namespace std::chrono_literals;

std::string error_of(const std::string& yaml) {
  auto s = config::parse_issuer_spec_yaml(YAML::Load(yaml));
  REQUIRE_FALSE(s);
  return s.error().message;
}

TEST_CASE("ACME provisioner fields are read with their defaults", "[config][acme]") {
  auto s = config::parse_issuer_spec_yaml(YAML::Load(R"(
provisioners:
  - {name: plain, type: ACME}
  - name: tuned
    type: ACME
    challenges: [dns-01]
    termsOfService: https://ca.internal/tos
    website: https://ca.internal
    caaIdentities: [ca.internal]
    forceCN: true
    orderLifetime: 2h
    externalAccountBinding:
      keys: [{keyID: team-a, hmacKey: MDEyMzQ1Njc4OWFiY2RlZg}]
    validation: {http01Port: 8080, tlsALPN01Port: 8443, dnsResolver: "127.0.0.1:5353", timeout: 3s, attempts: 2, backoff: 250ms}
)"));
  REQUIRE(s);
  REQUIRE(s->acme.size() == 2);
  const auto& plain = s->acme[0];
  CHECK(plain.challenges == std::vector<std::string>{"http-01", "dns-01", "tls-alpn-01"});
  CHECK_FALSE(plain.require_eab);
  CHECK(plain.validation.http01_port == 80);
  CHECK(plain.validation.tls_alpn01_port == 443);
  CHECK(plain.validation.dns_resolver.empty());
  CHECK(plain.order_lifetime == 24h);
  const auto& t = s->acme[1];
  CHECK(t.challenges == std::vector<std::string>{"dns-01"});
  CHECK(t.terms_of_service == "https://ca.internal/tos");
  CHECK(t.caa_identities == std::vector<std::string>{"ca.internal"});
  CHECK(t.force_cn);
  CHECK(t.order_lifetime == 2h);
  CHECK(t.require_eab);
  REQUIRE(t.eab_keys.size() == 1);
  CHECK(t.eab_keys[0].key_id == "team-a");
  CHECK(t.eab_keys[0].hmac_key == "0123456789abcdef");
  CHECK(t.validation.http01_port == 8080);
  CHECK(t.validation.tls_alpn01_port == 8443);
  CHECK(t.validation.dns_resolver == "127.0.0.1:5353");
  CHECK(t.validation.timeout == 3s);
  CHECK(t.validation.attempts == 2);
  CHECK(t.validation.backoff == 250ms);
}

TEST_CASE("bad ACME provisioner fields name their path", "[config][acme]") {
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, challenges: [http-02]}]"),
             Catch::Contains("provisioners[0].challenges[0]: \"http-02\" is not"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, challenges: []}]"),
             Catch::Contains("provisioners[0].challenges: must name at least one"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, validation: {http01Port: 0}}]"),
             Catch::Contains("provisioners[0].validation.http01Port: \"0\" is not a port"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, validation: {attempts: 50}}]"),
             Catch::Contains("provisioners[0].validation.attempts"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, validation: {port: 1}}]"),
             Catch::Contains("provisioners[0].validation.port: unknown field"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, externalAccountBinding: {keys: [{keyID: k, hmacKey: c2hvcnQ}]}}]"),
             Catch::Contains("hmacKey: must hold at least 16 bytes"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: ACME, audiences: [x]}]"),
             Catch::Contains("provisioners[0].audiences: is not a field of a ACME provisioner"));
  CHECK_THAT(error_of("provisioners: [{name: a, type: JWK, challenges: [dns-01], key: {}}]"),
             Catch::Contains("provisioners[0].challenges: is not a field of a JWK provisioner"));
}

TEST_CASE("an issuer spec may not hold EAB keys", "[config][acme]") {
  nlohmann::json spec = {
      {"ca", {{"secretRef", {{"name", "ca"}, {"namespace", "keystep"}}}}},
      {"provisioners",
       {{{"name", "acme"},
         {"type", "ACME"},
         {"validation", {{"http01Port", 8080}}},
         {"externalAccountBinding", {{"keys", {{{"keyID", "k"}, {"hmacKey", "MDEyMzQ1Njc4OWFiY2RlZg"}}}}}}}}}};
  auto r = config::parse_issuer_resource_spec(spec, true, "");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("externalAccountBinding keys belong in keystep.yaml"));
  spec["provisioners"][0].erase("externalAccountBinding");
  auto ok = config::parse_issuer_resource_spec(spec, true, "");
  REQUIRE(ok);
  REQUIRE(ok->spec.acme.size() == 1);
  CHECK(ok->spec.acme[0].validation.http01_port == 8080);
}

}  // namespace
}  // namespace keystep
