#include "issuer/policy/ip_address.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;
using namespace std::string_literals;

TEST_CASE("parse_ip accepts what inet_pton accepts and prints canonical text", "[policy]") {
  struct Case {
    const char* text;
    const char* canonical;
    bool is_v4;
  };
  const Case cases[] = {
      {"10.0.0.1", "10.0.0.1", true},
      {"0.0.0.0", "0.0.0.0", true},
      {"255.255.255.255", "255.255.255.255", true},
      {"::1", "::1", false},
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1", false},
      {"::ffff:10.0.0.1", "10.0.0.1", true},
      {"::FFFF:a00:1", "10.0.0.1", true},
      {"::10.0.0.1", "::10.0.0.1", false},  // IPv4-compatible, not mapped
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto ip = parse_ip(c.text);
    REQUIRE(ip);
    CHECK(ip->is_v4 == c.is_v4);
    CHECK(ip->size() == (c.is_v4 ? 4u : 16u));
    CHECK(to_string(*ip) == c.canonical);
  }
}

TEST_CASE("parse_ip rejects text that is not exactly one address", "[policy]") {
  for (const std::string& text :
       {""s, "10.0.0.01"s, "010.0.0.1"s, "256.0.0.1"s, "10.0.0"s, "10.0.0.1.2"s, " 10.0.0.1"s,
        "10.0.0.1 "s, "10.0.0.1/32"s, "[::1]"s, "fe80::1%eth0"s, "1:2:3:4:5:6:7:8:9"s,
        "example.com"s, "10.0.0.1\0junk"s, std::string(100, '1')}) {
    CAPTURE(text);
    CHECK_FALSE(parse_ip(text));
  }
}

TEST_CASE("parse_ip_network clears host bits and reads single addresses", "[policy]") {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"10.1.2.3/8", "10.0.0.0/8"},
      {"192.168.1.10", "192.168.1.10/32"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"2001:db8::1/32", "2001:db8::/32"},
      {"::1", "::1/128"},
      {"::/0", "::/0"},
      {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
      {"::ffff:10.0.0.1", "10.0.0.1/32"},
      {"2001:db8:ff80::/41", "2001:db8:ff80::/41"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto network = parse_ip_network(c.text);
    REQUIRE(network);
    CHECK(to_string(*network) == c.canonical);
  }
}

TEST_CASE("parse_ip_network rejects bad prefixes and addresses", "[policy]") {
  for (const char* text : {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/8/8",
                           "10.0.0.0/x", "10.0.0.01/8", "2001:db8::/129", "/8", "", "example.com/8",
                           "10.0.0.0/1000"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_ip_network(text));
  }
}

TEST_CASE("IpNetwork contains addresses of its own family up to its boundary", "[policy]") {
  const auto contains = [](const char* network, const char* ip) {
    return parse_ip_network(network)->contains(*parse_ip(ip));
  };
  CHECK(contains("192.168.0.0/23", "192.168.0.0"));
  CHECK(contains("192.168.0.0/23", "192.168.1.255"));
  CHECK_FALSE(contains("192.168.0.0/23", "192.168.2.0"));
  CHECK_FALSE(contains("192.168.0.0/23", "192.167.255.255"));
  CHECK(contains("2001:db8::/33", "2001:db8:7fff:ffff::1"));
  CHECK_FALSE(contains("2001:db8::/33", "2001:db8:8000::"));
  CHECK(contains("0.0.0.0/0", "255.255.255.255"));
  CHECK_FALSE(contains("0.0.0.0/0", "::1"));
  CHECK(contains("::/0", "2001:db8::1"));
  CHECK_FALSE(contains("::/0", "10.0.0.1"));
  CHECK(contains("10.0.0.0/8", "::ffff:10.9.9.9"));
  CHECK(contains("::ffff:10.0.0.0/104", "10.9.9.9"));
}
