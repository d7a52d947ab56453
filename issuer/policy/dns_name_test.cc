#include "issuer/policy/dns_name.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;
using namespace std::string_literals;

namespace {

std::string labels_of(std::size_t total_length) {
  // "aaa...a.aaa...a..." of exactly total_length bytes, labels of 63.
  std::string name;
  while (name.size() < total_length) {
    if (!name.empty()) name += '.';
    name += std::string(std::min<std::size_t>(63, total_length - name.size()), 'a');
  }
  return name;
}

}  // namespace

TEST_CASE("is_valid_hostname accepts letter-digit-hyphen labels", "[policy]") {
  for (const std::string& name :
       {"a"s, "localhost"s, "example.com"s, "EXAMPLE.Com"s, "a-b.c0"s, "123.example.com"s,
        "xn--bcher-kva.de"s, std::string(63, 'a') + ".com", labels_of(253)}) {
    CAPTURE(name);
    CHECK(is_valid_hostname(name));
  }
}

TEST_CASE("is_valid_hostname rejects malformed and address-like names", "[policy]") {
  for (const std::string& name :
       {""s, "example.com."s, ".example.com"s, "a..b"s, "-a.example.com"s, "a-.example.com"s,
        "exa mple.com"s, "exa_mple.com"s, "*.example.com"s, "b\xC3\xBC" "cher.de"s,
        "ex\0ample.com"s, std::string(64, 'a') + ".com", labels_of(254), "10.0.0.01"s,
        "1.2.3.4"s, "123"s, "::1"s}) {
    CAPTURE(name);
    CHECK_FALSE(is_valid_hostname(name));
  }
}

TEST_CASE("DomainPattern wildcards match exactly one more label", "[policy]") {
  const auto pattern = DomainPattern::parse("*.Internal.Example.com");
  REQUIRE(pattern);
  CHECK(pattern->is_wildcard);
  CHECK(pattern->base == "internal.example.com");
  CHECK(pattern->matches("a.internal.example.com"));
  CHECK(pattern->matches("*.internal.example.com"));  // a literal wildcard name
  CHECK_FALSE(pattern->matches("internal.example.com"));
  CHECK_FALSE(pattern->matches("a.b.internal.example.com"));
  CHECK_FALSE(pattern->matches("ainternal.example.com"));
  CHECK_FALSE(pattern->matches(".internal.example.com"));

  const auto exact = DomainPattern::parse("example.com");
  REQUIRE(exact);
  CHECK_FALSE(exact->is_wildcard);
  CHECK(exact->matches("example.com"));
  CHECK_FALSE(exact->matches("www.example.com"));
  CHECK_FALSE(exact->matches("xexample.com"));
}

TEST_CASE("DomainPattern refuses other wildcard forms", "[policy]") {
  for (const char* text : {"*", "*.", ".example.com", "*example.com", "**.example.com",
                           "a.*.example.com", "*.*.example.com", "example.*", "", "example.com."}) {
    CAPTURE(text);
    CHECK_FALSE(DomainPattern::parse(text));
  }
}

TEST_CASE("to_lower_ascii lowers only A to Z", "[policy]") {
  CHECK(to_lower_ascii("Ex-AMPLE.com") == "ex-ample.com");
  CHECK(to_lower_ascii("\xC3\x9C") == "\xC3\x9C");
}
