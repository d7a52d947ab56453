#include "issuer/policy/name_policy.h"

#include <catch2/catch.hpp>

#include "issuer/policy/quote.h"

using namespace keystep;
using namespace keystep::policy;

namespace {

NamePolicy policy_of(const NamePolicyConfig& config) {
  auto policy = NamePolicy::create(config);
  REQUIRE(policy);
  return *policy;
}

Names one(SanType type, const std::string& value) {
  Names names;
  switch (type) {
    case SanType::dns: names.dns = {value}; break;
    case SanType::ip: names.ips = {value}; break;
    case SanType::email: names.emails = {value}; break;
    case SanType::uri: names.uris = {value}; break;
  }
  return names;
}

Names cn(const std::string& common_name) {
  Names names;
  names.common_name = common_name;
  return names;
}

struct Case {
  std::string value;
  bool is_allowed;
};

void check_table(const NamePolicy& policy, SanType type, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(to_string(type) << " " << c.value);
    auto status = policy.check(one(type, c.value));
    CHECK(status.has_value() == c.is_allowed);
    if (!status) CHECK(status.error().code == Errc::permission_denied);
  }
}

// The message of a denial, or "allowed".
std::string outcome(const NamePolicy& policy, const Names& names) {
  auto status = policy.check(names);
  return status ? "allowed" : status.error().message;
}

}  // namespace

TEST_CASE("NamePolicy dns allow rules match exactly or one wildcard label", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"example.com", "*.Internal.Example.com"};
  check_table(policy_of(config), SanType::dns,
              {{"example.com", true},
               {"EXAMPLE.com", true},
               {"www.example.com", false},
               {"a.internal.example.com", true},
               {"A.Internal.EXAMPLE.COM", true},
               {"internal.example.com", false},
               {"a.b.internal.example.com", false},
               {"ainternal.example.com", false},
               {"xexample.com", false},
               {"example.org", false}});
}

TEST_CASE("NamePolicy deny wins over allow, whatever the case", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"*.example.com"};
  config.deny.dns = {"bad.example.com"};
  const auto policy = policy_of(config);
  check_table(policy, SanType::dns,
              {{"good.example.com", true}, {"bad.example.com", false}, {"BAD.Example.com", false}});
  CHECK(outcome(policy, one(SanType::dns, "BAD.example.com")) ==
        R"(dns name "BAD.example.com" not allowed)");
  Names names;
  names.dns = {"good.example.com", "bad.example.com"};
  CHECK(outcome(policy, names) == R"(dns name "bad.example.com" not allowed)");
}

TEST_CASE("NamePolicy with only deny rules allows everything not denied", "[policy]") {
  NamePolicyConfig config;
  config.deny.dns = {"bad.example.com"};
  config.deny.ip = {"10.0.0.0/8"};
  const auto policy = policy_of(config);
  check_table(policy, SanType::dns, {{"other.example.com", true}, {"bad.example.com", false}});
  check_table(policy, SanType::ip, {{"192.168.0.1", true}, {"10.1.1.1", false}, {"::ffff:10.0.0.1", false}});
  check_table(policy, SanType::email, {{"a@bad.example.com", true}});
  check_table(policy, SanType::uri, {{"urn:uuid:1234", true}, {"https://10.0.0.1/", true}});
  CHECK(outcome(policy, cn("John Doe")) == "allowed");
  CHECK(outcome(policy, one(SanType::ip, "10.0.0.1")) == R"(ip address "10.0.0.1" not allowed)");
}

TEST_CASE("NamePolicy denies a SAN whose type has no allow rules", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"example.com"};
  const auto policy = policy_of(config);
  CHECK(outcome(policy, one(SanType::ip, "10.0.0.1")) == R"(ip address "10.0.0.1" not allowed)");
  CHECK(outcome(policy, one(SanType::email, "a@example.com")) ==
        R"(email address "a@example.com" not allowed)");
  CHECK(outcome(policy, one(SanType::uri, "spiffe://example.com/x")) ==
        R"(uri "spiffe://example.com/x" not allowed)");
  Names names;
  names.dns = {"example.com"};
  names.ips = {"10.0.0.1"};
  CHECK(outcome(policy, names) == R"(ip address "10.0.0.1" not allowed)");
}

TEST_CASE("NamePolicy without rules allows any well-formed names", "[policy]") {
  const NamePolicy policy;
  CHECK(policy.empty());
  Names names = split_sans({"*.example.com", "10.0.0.1", "a@b.example", "https://10.0.0.1/",
                            "urn:uuid:1"});
  names.common_name = "anything at all";
  CHECK(outcome(policy, names) == "allowed");
  CHECK(policy_of(NamePolicyConfig{}).empty());
}

TEST_CASE("NamePolicy ip rules contain addresses by CIDR, per family", "[policy]") {
  NamePolicyConfig config;
  config.allow.ip = {"10.0.0.0/8", "192.168.1.10", "192.168.4.0/23", "2001:db8::/33"};
  check_table(policy_of(config), SanType::ip,
              {{"10.0.0.0", true},
               {"10.255.255.255", true},
               {"9.255.255.255", false},
               {"11.0.0.0", false},
               {"192.168.1.10", true},
               {"192.168.1.11", false},
               {"192.168.5.255", true},
               {"192.168.6.0", false},
               {"192.168.3.255", false},
               {"::ffff:10.1.2.3", true},
               {"2001:db8::1", true},
               {"2001:DB8:7fff:ffff:ffff:ffff:ffff:ffff", true},
               {"2001:db8:8000::", false},
               {"::1", false}});
  NamePolicyConfig v6_only;
  v6_only.allow.ip = {"::/0"};
  check_table(policy_of(v6_only), SanType::ip, {{"::1", true}, {"10.0.0.1", false}});
}

TEST_CASE("NamePolicy email rules match a mailbox or any mailbox at a domain", "[policy]") {
  NamePolicyConfig config;
  config.allow.email = {"admin@example.com", "@corp.example.com", "team.example.org"};
  check_table(policy_of(config), SanType::email,
              {{"admin@example.com", true},
               {"admin@EXAMPLE.COM", true},
               {"Admin@example.com", false},
               {"other@example.com", false},
               {"anyone@corp.example.com", true},
               {"x@CORP.example.com", true},
               {"x@sub.corp.example.com", false},
               {"y@team.example.org", true},
               {"y@example.org", false}});
}

TEST_CASE("NamePolicy uri rules match the host of the URI", "[policy]") {
  NamePolicyConfig config;
  config.allow.uri = {"*.spiffe.example.com", "trust.example.org"};
  const auto policy = policy_of(config);
  check_table(policy, SanType::uri,
              {{"spiffe://trust.example.org/ns/default/sa/x", true},
               {"spiffe://TRUST.example.org", true},
               {"https://api.spiffe.example.com:8443/path", true},
               {"https://user@api.spiffe.example.com/", true},
               {"spiffe://spiffe.example.com/x", false},
               {"spiffe://a.b.spiffe.example.com/", false},
               {"spiffe://trust.example.org.evil.com/", false}});
  for (const char* uri : {"https://10.0.0.1/", "https://[::1]/", "urn:uuid:1", "spiffe:///x",
                          "https://*.spiffe.example.com/"}) {
    CHECK(outcome(policy, one(SanType::uri, uri)) ==
          "uri " + quote(uri) + " not allowed: uri host must be a DNS name");
  }
}

TEST_CASE("NamePolicy uri deny rules also require a DNS host", "[policy]") {
  NamePolicyConfig uri_deny;
  uri_deny.deny.uri = {"bad.example.com"};
  const auto policy = policy_of(uri_deny);
  check_table(policy, SanType::uri,
              {{"spiffe://good.example.com/x", true},
               {"spiffe://bad.example.com/x", false},
               {"urn:uuid:1", false},
               {"https://10.0.0.1/", false}});
  NamePolicyConfig dns_deny;
  dns_deny.deny.dns = {"bad.example.com"};
  check_table(policy_of(dns_deny), SanType::uri, {{"urn:uuid:1", true}});
}

TEST_CASE("NamePolicy common name passes a cn rule or is checked as its SAN type", "[policy]") {
  NamePolicyConfig config;
  config.allow.cn = {"My Service", "*"};
  config.allow.dns = {"*.example.com"};
  const auto policy = policy_of(config);
  CHECK(outcome(policy, cn("My Service")) == "allowed");
  CHECK(outcome(policy, cn("*")) == "allowed");
  CHECK(outcome(policy, cn("my service")) == R"(common name "my service" not allowed)");
  CHECK(outcome(policy, cn("anything")) == R"(common name "anything" not allowed)");
  CHECK(outcome(policy, cn("a.example.com")) == "allowed");
  CHECK(outcome(policy, cn("A.Example.com")) == "allowed");
  CHECK(outcome(policy, cn("b.other.com")) == R"(common name "b.other.com" not allowed)");
  CHECK(outcome(policy, cn("10.0.0.1")) == R"(common name "10.0.0.1" not allowed)");
  CHECK(outcome(policy, cn("")) == "allowed");
  CHECK(outcome(policy, cn("*.example.com")) ==
        R"(common name "*.example.com" not allowed: wildcard names are not allowed)");
}

TEST_CASE("NamePolicy common name deny rules win over cn allow rules", "[policy]") {
  NamePolicyConfig config;
  config.allow.cn = {"root", "bad.example.com"};
  config.deny.cn = {"root"};
  config.deny.dns = {"bad.example.com"};
  const auto policy = policy_of(config);
  CHECK(outcome(policy, cn("root")) == R"(common name "root" not allowed)");
  CHECK(outcome(policy, cn("BAD.example.com")) == R"(common name "BAD.example.com" not allowed)");
  CHECK(outcome(policy, cn("Root")) == R"(common name "Root" not allowed)");  // no allow rule
}

TEST_CASE("NamePolicy denies literal wildcard SANs unless allowed", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"*.x.internal", "*.internal", "exact.internal"};
  CHECK(outcome(policy_of(config), one(SanType::dns, "*.x.internal")) ==
        R"(dns name "*.x.internal" not allowed: wildcard names are not allowed)");

  config.allow_wildcard_names = true;
  check_table(policy_of(config), SanType::dns,
              {{"*.x.internal", true}, {"*.X.Internal", true}, {"*.internal", true},
               {"*.y.x.internal", false}, {"*.exact.internal", false}});

  NamePolicyConfig deny_only;
  deny_only.deny.dns = {"bad.example.com"};
  CHECK(outcome(policy_of(deny_only), one(SanType::dns, "*.example.com")) ==
        R"(dns name "*.example.com" not allowed: wildcard names are not allowed)");
  deny_only.allow_wildcard_names = true;
  deny_only.deny.dns.push_back("*.bad.example.com");
  check_table(policy_of(deny_only), SanType::dns, {{"*.example.com", true}, {"*.bad.example.com", false}});
}

TEST_CASE("NamePolicy rejects SANs of invalid syntax whatever the rules", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"*.example.com"};
  for (const NamePolicy& policy : {NamePolicy(), policy_of(config)}) {
    for (const char* dns : {"", "a.example.com.", "-a.example.com", "a..example.com",
                                  "a b.example.com", "a_b.example.com", "10.0.0.01",
                                  "a.*.example.com", "*", "**.example.com", "*a.example.com"}) {
      CAPTURE(dns);
      auto status = policy.check(one(SanType::dns, dns));
      REQUIRE_FALSE(status);
      CHECK(status.error().code == Errc::invalid_argument);
      CHECK(status.error().message == "invalid dns name " + quote(dns));
    }
    const std::pair<SanType, const char*> others[] = {
        {SanType::ip, "10.0.0.01"}, {SanType::ip, "example.com"}, {SanType::email, "@example.com"},
        {SanType::email, "a@b@"}, {SanType::uri, "no-scheme"}, {SanType::uri, "https://a b/"},
        {SanType::uri, "fe80::1%eth0"}};
    for (const auto& [type, value] : others) {
      CAPTURE(value);
      auto status = policy.check(one(type, value));
      REQUIRE_FALSE(status);
      CHECK(status.error().code == Errc::invalid_argument);
    }
  }
  CHECK(outcome(NamePolicy(), one(SanType::ip, "1.2.3")) == R"(invalid ip address "1.2.3")");
  CHECK(outcome(NamePolicy(), one(SanType::email, "a@")) == R"(invalid email address "a@")");
  CHECK(outcome(NamePolicy(), one(SanType::uri, "x y:z")) == R"(invalid uri "x y:z")");
  CHECK(outcome(NamePolicy(), one(SanType::dns, "a\nb")) == R"(invalid dns name "a\x0ab")");
}

TEST_CASE("NamePolicy checks split_sans output end to end", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"*.internal.example.com", "example.com"};
  config.allow.ip = {"10.0.0.0/8"};
  config.allow.email = {"@example.com"};
  config.allow.uri = {"*.spiffe.example.com"};
  config.deny.dns = {"bad.internal.example.com"};
  const auto policy = policy_of(config);
  Names names = split_sans({"api.internal.example.com", "example.com", "10.1.2.3",
                            "::ffff:10.9.9.9", "ops@example.com", "spiffe://td.spiffe.example.com/ns/a"});
  names.common_name = "api.internal.example.com";
  CHECK(outcome(policy, names) == "allowed");
  names.dns.push_back("bad.internal.example.com");
  CHECK(outcome(policy, names) == R"(dns name "bad.internal.example.com" not allowed)");
}
