#include "issuer/acme/identifier.h"

#include <catch2/catch.hpp>

#include "tests/support/pki.h"

namespace keystep::acme {
namespace {

using nlohmann::json;

json ids(std::initializer_list<std::pair<const char*, const char*>> list) {
  json out = json::array();
  for (auto [t, v] : list) out.push_back({{"type", t}, {"value", v}});
  return out;
}

crypto::Csr csr_of(const testing::CsrSpec& spec) {
  auto key = testing::make_key();
  auto csr = crypto::Csr::from_pem(testing::make_csr_pem(key.get(), spec));
  REQUIRE(csr);
  return std::move(*csr);
}

TEST_CASE("identifiers are normalized, deduplicated and sorted", "[acme]") {
  auto r = parse_identifiers(ids({{"dns", "B.Example."}, {"ip", "2001:DB8:0::1"}, {"dns", "b.example"},
                                  {"dns", "*.a.example"}, {"dns", "db"}}));
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0] == Identifier{"dns", "*.a.example"});
  CHECK((*r)[0].is_wildcard());
  CHECK((*r)[0].authorized_value() == "a.example");
  CHECK((*r)[1] == Identifier{"dns", "b.example"});
  CHECK((*r)[2] == Identifier{"dns", "db"});
  CHECK((*r)[3] == Identifier{"ip", "2001:db8::1"});
}

TEST_CASE("bad identifiers are refused with one subproblem each", "[acme]") {
  auto r = parse_identifiers(ids({{"dns", "ok.example"}, {"dns", "bad_name.example"}, {"dns", "10.0.0.1"},
                                  {"ip", "10.0.0.300"}, {"dns", "*.*.example"}}));
  REQUIRE_FALSE(r);
  CHECK(r.error().type == "rejectedIdentifier");
  REQUIRE(r.error().subproblems.size() == 4);
  CHECK(r.error().subproblems[0].identifier["value"] == "bad_name.example");
  CHECK(r.error().subproblems[1].detail.find("use an identifier of type ip") != std::string::npos);

  auto other = parse_identifiers(ids({{"email", "a@b.example"}}));
  REQUIRE_FALSE(other);
  CHECK(other.error().type == "unsupportedIdentifier");

  CHECK(parse_identifiers(json::array()).error().type == "malformed");
  CHECK(parse_identifiers(json{{"type", "dns"}}).error().type == "malformed");
  CHECK(parse_identifiers(json::array({json{{"type", "dns"}}})).error().type == "malformed");
  json many = json::array();
  for (int i = 0; i <= static_cast<int>(kMaxIdentifiers); ++i) many.push_back({{"type", "dns"}, {"value", "h" + std::to_string(i) + ".example"}});
  CHECK(parse_identifiers(many).error().type == "rejectedIdentifier");
}

TEST_CASE("a finalize CSR must name exactly the order's identifiers", "[acme]") {
  const std::vector<Identifier> order = {{"dns", "*.a.example"}, {"dns", "b.example"}, {"ip", "10.0.0.1"}};
  CHECK_FALSE(check_csr(csr_of({.cn = "b.example", .dns = {"*.a.example", "B.example"}, .ips = {"10.0.0.1"}}), order));
  CHECK_FALSE(check_csr(csr_of({.dns = {"*.a.example", "b.example"}, .ips = {"10.0.0.1"}}), order));

  auto extra = check_csr(csr_of({.dns = {"*.a.example", "b.example", "c.example"}, .ips = {"10.0.0.1"}}), order);
  REQUIRE(extra);
  CHECK(extra->type == "badCSR");
  CHECK(extra->detail.find("c.example") != std::string::npos);
  auto extra_cn = check_csr(csr_of({.cn = "evil.example", .dns = {"*.a.example", "b.example"}, .ips = {"10.0.0.1"}}), order);
  REQUIRE(extra_cn);
  CHECK(extra_cn->detail.find("evil.example") != std::string::npos);
  auto missing = check_csr(csr_of({.dns = {"*.a.example"}, .ips = {"10.0.0.1"}}), order);
  REQUIRE(missing);
  CHECK(missing->detail.find("missing b.example") != std::string::npos);
  auto email = check_csr(csr_of({.dns = {"*.a.example", "b.example"}, .ips = {"10.0.0.1"}, .emails = {"a@b.example"}}), order);
  REQUIRE(email);
  CHECK(email->type == "badCSR");
}

}  // namespace
}  // namespace keystep::acme
