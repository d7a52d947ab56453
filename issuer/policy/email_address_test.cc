#include "issuer/policy/email_address.h"

#include <catch2/catch.hpp>

using namespace keystep::policy;

TEST_CASE("EmailAddress::parse splits at the last @ and lowers the domain", "[policy]") {
  auto email = EmailAddress::parse("First.Last+tag@Example.COM");
  REQUIRE(email);
  CHECK(email->local == "First.Last+tag");
  CHECK(email->domain == "example.com");
  auto quoted = EmailAddress::parse("\"a@b\"@example.com");
  REQUIRE(quoted);
  CHECK(quoted->local == "\"a@b\"");
}

TEST_CASE("EmailAddress::parse rejects malformed addresses", "[policy]") {
  for (const std::string& text : {std::string("@example.com"), std::string("a@"), std::string("a"),
                                 std::string("a b@example.com"), std::string("a@-x.com"),
                                 std::string("a@[10.0.0.1]"), std::string("a@10.0.0.1"),
                                 std::string("a@example.com."), std::string(65, 'a') + "@x.com",
                                 std::string("\xC3\xBC@example.com")}) {
    CAPTURE(text);
    CHECK_FALSE(EmailAddress::parse(text));
  }
}

TEST_CASE("EmailPattern reads mailbox, domain and @domain forms", "[policy]") {
  const auto mailbox = EmailPattern::parse("admin@Example.com");
  REQUIRE(mailbox);
  CHECK(mailbox->local == "admin");
  CHECK(mailbox->domain == "example.com");
  const auto domain = EmailPattern::parse("corp.example.com");
  REQUIRE(domain);
  CHECK(domain->local.empty());
  const auto at_domain = EmailPattern::parse("@corp.example.com");
  REQUIRE(at_domain);
  CHECK(at_domain->local.empty());
  CHECK(at_domain->domain == "corp.example.com");

  const auto address = [](const char* text) { return *EmailAddress::parse(text); };
  CHECK(mailbox->matches(address("admin@EXAMPLE.com")));
  CHECK_FALSE(mailbox->matches(address("Admin@example.com")));
  CHECK_FALSE(mailbox->matches(address("other@example.com")));
  CHECK(domain->matches(address("anyone@corp.example.com")));
  CHECK_FALSE(domain->matches(address("anyone@sub.corp.example.com")));
  CHECK_FALSE(domain->matches(address("anyone@example.com")));
}

TEST_CASE("EmailPattern refuses wildcards and malformed rules", "[policy]") {
  for (const char* text : {"*", "", "@", "*@example.com", "a*@example.com", "user@",
                           "@*.example.com", "*.example.com", ".example.com", "a b@example.com",
                           "user@10.0.0.1"}) {
    CAPTURE(text);
    CHECK_FALSE(EmailPattern::parse(text));
  }
}
