#include "issuer/policy/quote.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;
using namespace std::string_literals;

TEST_CASE("quote escapes quotes, backslashes and non-printable bytes", "[policy]") {
  CHECK(quote("example.com") == "\"example.com\"");
  CHECK(quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(quote("a\nb\x7f\xC3\xBC"s) == R"("a\x0ab\x7f\xc3\xbc")");
  CHECK(quote("a\0b"s) == R"("a\x00b")");
}

TEST_CASE("quote cuts long text", "[policy]") {
  CHECK(quote(std::string(300, 'a')) == "\"" + std::string(kMaxQuoted, 'a') + "\"...");
}
