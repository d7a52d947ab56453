#include "issuer/http/url.h"

#include <catch2/catch.hpp>

using namespace keystep::http;

TEST_CASE("parse_url fills default ports and a root path", "[http]") {
  auto u = parse_url("https://CA.Example.com");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "ca.example.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/");
  CHECK_FALSE(u->is_ip);
  CHECK(u->host_header() == "ca.example.com");

  auto plain = parse_url("http://10.0.0.1?x=1");
  REQUIRE(plain);
  CHECK(plain->port == 80);
  CHECK(plain->is_ip);
  CHECK(plain->target == "/?x=1");
}

TEST_CASE("parse_url keeps path and query and drops the fragment", "[http]") {
  auto u = parse_url("https://127.0.0.1:9000/1.0/sign?a=b#frag");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 9000);
  CHECK(u->target == "/1.0/sign?a=b");
  CHECK(u->authority() == "127.0.0.1:9000");
  CHECK(u->host_header() == "127.0.0.1:9000");
}

TEST_CASE("parse_url reads bracketed IPv6 hosts", "[http]") {
  auto u = parse_url("https://[::1]:8443/health");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->is_ip);
  CHECK(u->port == 8443);
  CHECK(u->authority() == "[::1]:8443");
  auto d = parse_url("https://[2001:db8::1]/");
  REQUIRE(d);
  CHECK(d->host_header() == "[2001:db8::1]");
}

TEST_CASE("parse_url rejects other schemes, user info and bad ports", "[http]") {
  for (const char* bad :
       {"ftp://x/", "ca.example.com:9000", "https://", "https://u:p@host/", "https://host:0/",
        "https://host:65536/", "https://host:9x/", "https://host:/", "https://[::1/",
        "https://[zz::1]/", "https://ho st/"}) {
    INFO(bad);
    auto u = parse_url(bad);
    REQUIRE_FALSE(u);
    CHECK(u.error().code == keystep::Errc::invalid_argument);
  }
}

TEST_CASE("percent_decode decodes escapes and optionally plus", "[http]") {
  std::string out;
  CHECK(percent_decode("a%2Fb+c", out, false));
  CHECK(out == "a/b+c");
  out.clear();
  CHECK(percent_decode("a%2fb+c", out, true));
  CHECK(out == "a/b c");
  for (const char* bad : {"%", "%4", "%zz", "abc%"}) {
    std::string o;
    CHECK_FALSE(percent_decode(bad, o, false));
  }
}
