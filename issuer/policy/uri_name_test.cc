#include "issuer/policy/uri_name.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;
using HostKind = UriName::HostKind;

TEST_CASE("UriName::parse finds the authority host", "[policy]") {
  struct Case {
    const char* text;
    HostKind kind;
    const char* host;
  };
  const Case cases[] = {
      {"spiffe://trust.domain/ns/x", HostKind::dns, "trust.domain"},
      {"SPIFFE://Trust.Domain", HostKind::dns, "trust.domain"},
      {"https://user:pw@api.example.com:8443/p?q#f", HostKind::dns, "api.example.com"},
      {"https://api.example.com:/", HostKind::dns, "api.example.com"},
      {"https://api.example.com?x", HostKind::dns, "api.example.com"},
      {"https://10.0.0.1/", HostKind::ip, "10.0.0.1"},
      {"https://[2001:DB8::1]:443/", HostKind::ip, "2001:db8::1"},
      {"spiffe:///x", HostKind::none, ""},
      {"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", HostKind::none, ""},
      {"mailto:a@example.com", HostKind::none, ""},
      {"host.internal:8443", HostKind::none, ""},
      {"https://*.example.com/", HostKind::other, "*.example.com"},
      {"https://%41pi.example.com/a%2Fb", HostKind::other, "%41pi.example.com"},
      {"https://under_score.example.com/", HostKind::other, "under_score.example.com"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto uri = UriName::parse(c.text);
    REQUIRE(uri);
    CHECK(uri->host_kind == c.kind);
    CHECK(uri->host == c.host);
  }
}

TEST_CASE("UriName::parse rejects text that is not a URI", "[policy]") {
  for (const std::string& text :
       {std::string("no-scheme/path"), std::string("//host/path"), std::string("1http://x"),
        std::string(":x"), std::string("spiffe://x y/"), std::string("spiffe://x/\n"),
        std::string("https://host:port/"), std::string("https://[zz]/"),
        std::string("https://[10.0.0.1]/"), std::string("https://[::1/"),
        std::string("https://[::1]x/"), std::string("https://h/\xC3\xBC"),
        std::string("fe80::1%eth0"), std::string("https://h/%4"), std::string("https://h/%zz"),
        "https://h/" + std::string(kMaxUriLength, 'a')}) {
    CAPTURE(text);
    CHECK_FALSE(UriName::parse(text));
  }
}

TEST_CASE("uri_scheme_length measures an RFC 3986 scheme", "[policy]") {
  CHECK(uri_scheme_length("spiffe://x") == 6);
  CHECK(uri_scheme_length("a+b-c.d:x") == 7);
  CHECK(uri_scheme_length("mailto:a@b") == 6);
  CHECK(uri_scheme_length("a@b.c") == 0);
  CHECK(uri_scheme_length("1a:b") == 0);
  CHECK(uri_scheme_length(":b") == 0);
  CHECK(uri_scheme_length("abc") == 0);
}
