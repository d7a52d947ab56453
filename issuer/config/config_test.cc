#include "issuer/config/config.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace std::chrono_literals;

namespace {
const std::string kMinimal = R"(
address: 127.0.0.1:9443
dnsNames: [ca.internal, 127.0.0.1]
ca: {root: ../certs/root_ca.crt, crt: ../certs/intermediate_ca.crt, key: /abs/key}
)";
}

TEST_CASE("parse_config reads a minimal config and resolves relative paths", "[config]") {
  auto c = config::parse_config(kMinimal, "/etc/keystep/config");
  REQUIRE(c);
  CHECK(c->address == "127.0.0.1:9443");
  CHECK(c->authority.dns_names == std::vector<std::string>{"ca.internal", "127.0.0.1"});
  CHECK(c->ca.root == "/etc/keystep/certs/root_ca.crt");
  CHECK(c->ca.key == "/abs/key");
  CHECK(c->authority.claims.default_duration == 24h);
  CHECK(c->authority.backdate == 60s);
}

TEST_CASE("parse_config reads claims, policy and provisioners", "[config]") {
  auto c = config::parse_config(kMinimal + R"(
claims: {minDuration: 1m, defaultDuration: 1h, maxDuration: 2160h}
policy:
  allow: {dns: ["*.internal"], ip: [10.0.0.0/8]}
  deny: {dns: [bad.internal]}
  allowWildcardNames: true
backdate: 30s
provisioners:
  - name: admin
    type: JWK
    key: {"use":"sig","kty":"EC","kid":"k1","crv":"P-256","alg":"ES256","x":"a","y":"b"}
    encryptedKey: "e.y.j"
    claims: {maxDuration: 10h}
)",
                                "/x");
  REQUIRE(c);
  CHECK(c->authority.claims.max_duration == 2160h);
  CHECK(c->authority.policy.allow.dns == std::vector<std::string>{"*.internal"});
  CHECK(c->authority.policy.deny.dns == std::vector<std::string>{"bad.internal"});
  CHECK(c->authority.policy.allow_wildcard_names);
  CHECK(c->authority.backdate == 30s);
  REQUIRE(c->authority.provisioners.size() == 1);
  const auto& p = c->authority.provisioners[0];
  CHECK(p.name == "admin");
  CHECK(p.key["kid"] == "k1");
  CHECK(p.encrypted_key == "e.y.j");
  REQUIRE(p.claims);
  CHECK(p.claims->max_duration == 10h);
  CHECK(p.claims->default_duration == 1h);  // inherited from the CA's claims
}

TEST_CASE("parse_config names the field of every error", "[config]") {
  auto err = [](const std::string& yaml) {
    auto c = config::parse_config(yaml, "/x");
    REQUIRE_FALSE(c);
    return c.error().message;
  };
  CHECK_THAT(err(kMinimal + "bogus: 1\n"), Catch::Contains("bogus: unknown field"));
  CHECK_THAT(err(kMinimal + "claims: {maxDuration: forever}\n"), Catch::Contains("claims.maxDuration"));
  CHECK_THAT(err(kMinimal + "claims: {defaultDuration: 48h}\n"), Catch::Contains("claims"));
  CHECK_THAT(err(kMinimal + "policy: {allow: {dsn: [x]}}\n"), Catch::Contains("policy.allow.dsn: unknown field"));
  CHECK_THAT(err(kMinimal + "provisioners: [{name: a, type: OIDC, key: {}}]\n"),
             Catch::Contains("provisioners[0].type"));
  CHECK_THAT(err(kMinimal + "provisioners: [{type: JWK}]\n"), Catch::Contains("provisioners[0].name: is required"));
  CHECK_THAT(err("dnsNames: [a]\n"), Catch::Contains("ca: is required"));
  CHECK_THAT(err("ca: {root: a, crt: b, key: c}\n"), Catch::Contains("dnsNames"));
  CHECK_THAT(err("address: nowhere\ndnsNames: [a]\nca: {root: a, crt: b, key: c}\n"), Catch::Contains("address"));
  CHECK_THAT(err("[unclosed"), Catch::Contains("not valid YAML"));
  CHECK_THAT(err(kMinimal + "address: 127.0.0.1:1\n"), Catch::Contains("address: given twice"));
}

TEST_CASE("split_host_port accepts IPv4, IPv6 and empty hosts", "[config]") {
  CHECK(*config::split_host_port("127.0.0.1:9000") == std::pair<std::string, unsigned short>{"127.0.0.1", 9000});
  CHECK(*config::split_host_port("[::1]:443") == std::pair<std::string, unsigned short>{"::1", 443});
  CHECK(config::split_host_port(":9000")->first == "0.0.0.0");
  CHECK_FALSE(config::split_host_port("host"));
  CHECK_FALSE(config::split_host_port("host:99999"));
  CHECK_FALSE(config::split_host_port("host:abc"));
}

TEST_CASE("parse_config defaults to SQLite beside the config and reads storage, crl and ocsp", "[config]") {
  auto d = config::parse_config(kMinimal, "/etc/keystep/config");
  REQUIRE(d);
  CHECK(d->storage.kind == storage::StorageConfig::Kind::sqlite);
  CHECK(d->storage.sqlite_path == "/etc/keystep/config/keystep.db");
  CHECK(d->crl.enabled);
  CHECK(d->crl.cache_duration == 24h);
  CHECK(d->crl.renew_period == 16h);
  CHECK(d->insecure_address.empty());

  auto c = config::parse_config(kMinimal + R"(
insecureAddress: 127.0.0.1:9080
storage: {kind: postgres, dsn: "host=db dbname=keystep user=keystep", passwordFile: ../secrets/db, poolSize: 8}
crl: {cacheDuration: 6h, idpURL: "http://ca.internal/1.0/crl"}
ocsp: {validity: 30m}
)",
                                "/etc/keystep/config");
  REQUIRE(c);
  CHECK(c->insecure_address == "127.0.0.1:9080");
  CHECK(c->storage.kind == storage::StorageConfig::Kind::postgres);
  CHECK(c->storage.password_file == "/etc/keystep/secrets/db");
  CHECK(c->storage.pool_size == 8);
  CHECK(c->crl.cache_duration == 6h);
  CHECK(c->crl.renew_period == 4h);
  CHECK(c->crl.idp_url == "http://ca.internal/1.0/crl");
  CHECK(c->ocsp_validity == 30min);
}

TEST_CASE("parse_config names storage and crl fields in errors", "[config]") {
  auto err = [](const std::string& yaml) {
    auto c = config::parse_config(kMinimal + yaml, "/x");
    REQUIRE_FALSE(c);
    return c.error().message;
  };
  CHECK_THAT(err("storage: {kind: mysql}\n"), Catch::Contains("storage.kind"));
  CHECK_THAT(err("storage: {kind: postgres, dsn: \"host=db password=x\"}\n"), Catch::Contains("storage.dsn"));
  CHECK_THAT(err("storage: {poolSize: 100}\n"), Catch::Contains("storage.poolSize"));
  CHECK_THAT(err("crl: {cacheDuration: 1h, renewPeriod: 2h}\n"), Catch::Contains("crl.renewPeriod"));
  CHECK_THAT(err("ocsp: {validity: 0s}\n"), Catch::Contains("ocsp.validity"));
}

TEST_CASE("parse_config puts the CRL IDP and AIA URLs into every leaf's extensions", "[config]") {
  auto c = config::parse_config(kMinimal + "crl: {idpURL: \"http://ca/crl\"}\naia: {ocsp: \"http://ca/ocsp\"}\n", "/x");
  REQUIRE(c);
  CHECK(c->authority.distribution.crl == "http://ca/crl");
  CHECK(c->authority.distribution.ocsp == "http://ca/ocsp");
  auto d = config::parse_config(kMinimal + "crl: {idpURL: \"http://ca/crl\", distributionPoint: \"http://x/crl\"}\n", "/x");
  REQUIRE(d);
  CHECK(d->authority.distribution.crl == "http://x/crl");
  CHECK_FALSE(config::parse_config(kMinimal + "aia: {crl: x}\n", "/x"));
}

TEST_CASE("parse_config carries K8sSA and ACME provisioners and policy.allowCA", "[config]") {
  auto c = config::parse_config(kMinimal + R"(
policy: {allowCA: true}
provisioners:
  - {name: admin, type: jwk, key: {kty: EC}}
  - {name: pods, type: K8sSA, audiences: [keystep]}
  - {name: acme, type: ACME}
)",
                                "/x");
  REQUIRE(c);
  CHECK(c->authority.allow_ca);
  REQUIRE(c->authority.provisioners.size() == 1);
  REQUIRE(c->authority.k8ssa.size() == 1);
  CHECK(c->authority.k8ssa[0].audiences == std::vector<std::string>{"keystep"});
  REQUIRE(c->authority.acme.size() == 1);
  CHECK(c->authority.acme[0].name == "acme");
  CHECK(c->authority.acme[0].challenges.size() == 3);
  auto dup = config::parse_config(kMinimal + "provisioners: [{name: a, type: ACME}, {name: a, type: K8sSA}]\n", "/x");
  REQUIRE_FALSE(dup);
  CHECK_THAT(dup.error().message, Catch::Contains("provisioners[1].name: \"a\" is already used by provisioners[0]"));
}
