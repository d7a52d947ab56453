// dns-01 through NetworkValidator (glibc's resolver) against
// testing::DnsServer on loopback.

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "issuer/acme/key_authorization.h"
#include "issuer/acme/validator.h"
#include "tests/support/dns_server.h"
#include "tests/support/process.h"

using namespace keystep;
using namespace keystep::acme;
using keystep::testing::DnsServer;

namespace {

const std::string kKeyAuthorization =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
const std::string kName = "_acme-challenge.a.example";

ValidationOptions via(const std::string& resolver) {
  ValidationOptions o;
  o.dns_resolver = resolver;
  o.timeout = std::chrono::seconds(2);
  return o;
}

std::optional<Problem> check(const DnsServer& server, const std::string& identifier = "a.example") {
  return NetworkValidator().validate(via(server.address()),
                                     {kDns01, "dns", identifier, "tok", kKeyAuthorization});
}

}  // namespace

TEST_CASE("dns-01 accepts the digest", "[acme][dns01]") {
  DnsServer server;
  server.set_txt(kName, {"unrelated", dns01_txt_value(kKeyAuthorization)});
  auto problem = check(server);
  if (problem) FAIL(problem->detail);
  CHECK(server.query_count() >= 1);
}

TEST_CASE("dns-01 ignores the case of names", "[acme][dns01]") {
  DnsServer server;
  server.set_txt("_ACME-Challenge.A.Example.", {dns01_txt_value(kKeyAuthorization)});
  auto problem = check(server, "a.EXAMPLE");
  if (problem) FAIL(problem->detail);
}

TEST_CASE("dns-01 joins split TXT strings", "[acme][dns01]") {
  DnsServer server;
  const std::string value = dns01_txt_value(kKeyAuthorization);
  server.set_txt_records(kName, {{value.substr(0, 10), value.substr(10, 20), value.substr(30)}});
  auto problem = check(server);
  if (problem) FAIL(problem->detail);
}

TEST_CASE("dns-01 rejects a wrong TXT", "[acme][dns01]") {
  DnsServer server;
  server.set_txt(kName, {"one", "two", "three", "four", "five", std::string(100, 'z')});
  auto problem = check(server);
  REQUIRE(problem);
  CHECK(problem->type == "incorrectResponse");
  CHECK(problem->detail ==
        "TXT records at " + kName +
            " are \"one\", \"two\", \"three\", \"four\", \"five\" and 1 more, none is "
            "the key authorization's digest");
}

TEST_CASE("dns-01 reports a missing record", "[acme][dns01]") {
  DnsServer server;
  auto nxdomain = check(server);
  REQUIRE(nxdomain);
  CHECK(nxdomain->type == "dns");
  CHECK_THAT(nxdomain->detail, Catch::StartsWith("no TXT record at " + kName));

  server.set_a(kName, "127.0.0.1");  // the name exists, without TXT
  auto nodata = check(server);
  REQUIRE(nodata);
  CHECK(nodata->type == "dns");
  CHECK(nodata->detail == "no TXT record at " + kName);
}

TEST_CASE("dns-01 sees records change", "[acme][dns01]") {
  DnsServer server;
  server.set_txt(kName, {dns01_txt_value(kKeyAuthorization)});
  CHECK_FALSE(check(server));
  server.clear_txt(kName);
  auto problem = check(server);
  REQUIRE(problem);
  CHECK(problem->type == "dns");
}

TEST_CASE("dns-01 reads record files", "[acme][dns01]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("keystep-dns-" + keystep::testing::random_hex(6));
  std::filesystem::create_directories(dir);
  DnsServer server({"127.0.0.1", 0, dir});
  auto missing = check(server);
  REQUIRE(missing);
  CHECK(missing->type == "dns");
  { std::ofstream(dir / (kName + ".")) << "other\n" << dns01_txt_value(kKeyAuthorization) << "\n"; }
  auto problem = check(server);
  std::filesystem::remove_all(dir);
  if (problem) FAIL(problem->detail);
}

TEST_CASE("dns-01 takes a large answer over TCP", "[acme][dns01]") {
  DnsServer server;
  std::vector<std::string> values(30, std::string(100, 'q'));  // 3 KB: truncated over UDP
  values.push_back(dns01_txt_value(kKeyAuthorization));
  server.set_txt(kName, values);
  auto problem = check(server);
  if (problem) FAIL(problem->detail);
}

TEST_CASE("dns-01 checks run concurrently", "[acme][dns01]") {
  DnsServer server;
  server.set_txt(kName, {dns01_txt_value(kKeyAuthorization)});
  std::vector<std::optional<Problem>> problems(8);
  std::vector<std::thread> threads;
  for (auto& problem : problems) {
    threads.emplace_back([&server, &problem] { problem = check(server); });
  }
  for (auto& t : threads) t.join();
  for (const auto& problem : problems) {
    if (problem) FAIL(problem->detail);
  }
  CHECK(server.query_count() >= problems.size());
}

TEST_CASE("dns-01 asks an IPv6 resolver", "[acme][dns01]") {
  DnsServer server({"::1", 0, {}});
  server.set_txt(kName, {dns01_txt_value(kKeyAuthorization)});
  REQUIRE(server.address() == "[::1]:" + std::to_string(server.port()));
  auto problem = check(server);
  if (problem) FAIL(problem->detail);
}

TEST_CASE("dns-01 names an unreachable resolver", "[acme][dns01]") {
  const std::string resolver =
      "127.0.0.1:" + std::to_string(keystep::testing::free_loopback_port());
  auto problem = NetworkValidator().validate(
      via(resolver), {kDns01, "dns", "a.example", "tok", kKeyAuthorization});
  REQUIRE(problem);
  CHECK(problem->type == "dns");
  CHECK_THAT(problem->detail, Catch::Contains(resolver));
}

TEST_CASE("dns-01 rejects a bad resolver setting", "[acme][dns01]") {
  for (const char* resolver : {"127.0.0.1:", "127.0.0.1:99999", "[::1", "[::1]x"}) {
    auto problem = NetworkValidator().validate(
        via(resolver), {kDns01, "dns", "a.example", "tok", kKeyAuthorization});
    REQUIRE(problem);
    CHECK(problem->type == "serverInternal");
  }
}

TEST_CASE("dns-01 is only for dns identifiers", "[acme][dns01]") {
  auto problem = NetworkValidator().validate(via("127.0.0.1:1"),
                                             {kDns01, "ip", "10.0.0.1", "tok", kKeyAuthorization});
  REQUIRE(problem);
  CHECK(problem->type == "malformed");
}
