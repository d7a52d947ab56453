#include "issuer/policy/name_policy.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::policy;

namespace {

// The create() error for config, or "ok".
std::string create_error(const NamePolicyConfig& config) {
  auto policy = NamePolicy::create(config);
  if (policy) return "ok";
  CHECK(policy.error().code == Errc::invalid_argument);
  return policy.error().message;
}

constexpr const char* kDomainForms =
    R"(is not a DNS name ("example.com") or one-label wildcard ("*.example.com"))";

}  // namespace

TEST_CASE("NamePolicy::create names the field of a bad ip rule", "[policy]") {
  NamePolicyConfig config;
  config.allow.ip = {"10.0.0.0/8", "10.0.0.0/33"};
  CHECK(create_error(config) == R"(policy.allow.ip[1]: "10.0.0.0/33" is not an IP address or CIDR)");
  for (const char* rule : {"10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/08", "10.0.0.01", "example.com",
                           "2001:db8::/129", "", "10.0.0.0/8/8"}) {
    CAPTURE(rule);
    NamePolicyConfig bad;
    bad.deny.ip = {rule};
    CHECK(create_error(bad) ==
          "policy.deny.ip[0]: \"" + std::string(rule) + "\" is not an IP address or CIDR");
  }
}

TEST_CASE("NamePolicy::create accepts only exact and one-label wildcard dns rules", "[policy]") {
  for (const char* rule : {"*", "*.", ".example.com", "*example.com", "**.example.com",
                           "a.*.example.com", "example.com.", "", "exa mple.com", "10.0.0.01"}) {
    CAPTURE(rule);
    NamePolicyConfig bad;
    bad.deny.dns = {rule};
    CHECK(create_error(bad) == "policy.deny.dns[0]: \"" + std::string(rule) + "\" " + kDomainForms);
  }
  NamePolicyConfig ip_as_dns;
  ip_as_dns.allow.dns = {"example.com", "10.0.0.1"};
  CHECK(create_error(ip_as_dns) == R"(policy.allow.dns[1]: "10.0.0.1" is an IP address; use an ip rule)");
  NamePolicyConfig good;
  good.allow.dns = {"example.com", "*.Example.com", "localhost", "*.com"};
  CHECK(create_error(good) == "ok");
}

TEST_CASE("NamePolicy::create refuses wildcard and malformed email rules", "[policy]") {
  for (const char* rule : {"*", "", "*@example.com", "user@", "@", "@*.example.com",
                           "*.example.com", ".example.com", "a b@example.com"}) {
    CAPTURE(rule);
    NamePolicyConfig bad;
    bad.allow.email = {rule};
    CHECK(create_error(bad) == "policy.allow.email[0]: \"" + std::string(rule) +
                                   "\" is not an email address, domain or @domain");
  }
  NamePolicyConfig good;
  good.allow.email = {"user@example.com", "example.com", "@example.com"};
  CHECK(create_error(good) == "ok");
}

TEST_CASE("NamePolicy::create wants uri rules to be host patterns", "[policy]") {
  for (const char* rule : {"spiffe://example.com", "example.com:443", "10.0.0.1", "*.", "",
                           "example.com/path"}) {
    CAPTURE(rule);
    NamePolicyConfig bad;
    bad.allow.uri = {rule};
    CHECK(create_error(bad) == "policy.allow.uri[0]: \"" + std::string(rule) + "\" " +
                                   kDomainForms + "; uri rules match the host only");
  }
}

TEST_CASE("NamePolicy::create refuses an empty cn rule and uses the given path", "[policy]") {
  NamePolicyConfig config;
  config.deny.cn = {"ok", ""};
  CHECK(create_error(config) == "policy.deny.cn[1]: must not be empty");
  auto policy = NamePolicy::create(config, "authority.policy.x509");
  REQUIRE_FALSE(policy);
  CHECK(policy.error().message == "authority.policy.x509.deny.cn[1]: must not be empty");
}

TEST_CASE("NamePolicy::create quotes rules safely in errors", "[policy]") {
  NamePolicyConfig config;
  config.allow.dns = {"bad\n\"name\""};
  CHECK(create_error(config) == std::string(R"(policy.allow.dns[0]: "bad\x0a\"name\"" )") + kDomainForms);
}

TEST_CASE("NamePolicy::empty reports whether any rule exists", "[policy]") {
  NamePolicyConfig config;
  config.allow_wildcard_names = true;
  CHECK(NamePolicy::create(config)->empty());
  config.deny.cn = {"x"};
  CHECK_FALSE(NamePolicy::create(config)->empty());
  CHECK(config.allow.empty());
  CHECK_FALSE(config.deny.empty());
}
