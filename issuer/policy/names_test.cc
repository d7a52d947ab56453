#include "issuer/policy/names.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;

TEST_CASE("classify_san sorts free-form SANs by step-ca's rule", "[policy]") {
  struct Case {
    const char* value;
    SanType type;
  };
  const Case cases[] = {
      {"10.0.0.1", SanType::ip},
      {"::1", SanType::ip},
      {"2001:db8::1", SanType::ip},
      {"2001:DB8:0:0:0:0:0:1", SanType::ip},
      {"::ffff:10.0.0.1", SanType::ip},
      {"spiffe://x/y", SanType::uri},
      {"https://example.com/path", SanType::uri},
      {"mailto:a@b", SanType::uri},
      {"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", SanType::uri},
      {"host.internal:8443", SanType::uri},  // a scheme to Go's url.Parse too
      {"a@b.c", SanType::email},
      {"user+tag@example.com", SanType::email},
      {"user@host:8080", SanType::email},  // '@' is not a scheme character
      {"host.internal", SanType::dns},
      {"localhost", SanType::dns},
      {"*.example.com", SanType::dns},
      {"10.0.0.01", SanType::dns},  // inet_pton refuses leading zeros
      {"10.0.0", SanType::dns},
      {"fe80::1%eth0", SanType::uri},  // not an address (zone); "fe80" is a scheme, as in Go
      {"1:2", SanType::dns},           // a scheme starts with a letter
      {"", SanType::dns},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(classify_san(c.value) == c.type);
  }
}

TEST_CASE("split_sans keeps order per type and canonicalises IPs", "[policy]") {
  const Names names = split_sans({"b.example.com", "2001:DB8:0:0::1", "spiffe://td/ns/x",
                                  "::ffff:10.0.0.1", "a@example.com", "a.example.com",
                                  "10.0.0.01"});
  CHECK(names.common_name.empty());
  CHECK(names.dns == std::vector<std::string>{"b.example.com", "a.example.com", "10.0.0.01"});
  CHECK(names.ips == std::vector<std::string>{"2001:db8::1", "10.0.0.1"});
  CHECK(names.emails == std::vector<std::string>{"a@example.com"});
  CHECK(names.uris == std::vector<std::string>{"spiffe://td/ns/x"});
}

TEST_CASE("to_string names each SAN type", "[policy]") {
  CHECK(to_string(SanType::dns) == "dns");
  CHECK(to_string(SanType::ip) == "ip");
  CHECK(to_string(SanType::email) == "email");
  CHECK(to_string(SanType::uri) == "uri");
}
