#include "cli/ca_client.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::cli;

namespace {

Args parse(const std::vector<std::string>& argv) {
  CommandSpec spec{.path = "ca test", .flags = {ca_url_flag()}};
  auto args = Args::parse(spec, argv);
  REQUIRE(args);
  return *args;
}

}  // namespace

TEST_CASE("endpoint_url replaces the CA URL's path and keeps its authority as written", "[cli]") {
  CHECK(endpoint_url("https://ca.internal:9000", "/1.0/sign") == "https://ca.internal:9000/1.0/sign");
  CHECK(endpoint_url("https://ca.internal:9000/", "/health") == "https://ca.internal:9000/health");
  CHECK(endpoint_url("https://CA.internal/prefix/x?y=1#z", "/1.0/revoke") == "https://CA.internal/1.0/revoke");
  CHECK(endpoint_url("https://[::1]:9000/a", "/root/ab") == "https://[::1]:9000/root/ab");
  CHECK(endpoint_url("https://ca.internal?q", "/health") == "https://ca.internal/health");
}

TEST_CASE("read_ca_url requires an https URL and names the flag", "[cli]") {
  CHECK(*read_ca_url(parse({"--ca-url", "https://ca.internal:9000"})) == "https://ca.internal:9000");

  auto missing = read_ca_url(parse({}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "flag --ca-url is required");

  auto plain = read_ca_url(parse({"--ca-url=http://ca.internal"}));
  REQUIRE_FALSE(plain);
  CHECK(plain.error().message == "flag --ca-url: \"http://ca.internal\" is not an https:// URL");

  auto bad = read_ca_url(parse({"--ca-url", "ca.internal:9000"}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.rfind("flag --ca-url: ", 0) == 0);
}

TEST_CASE("refusal_message shows the status and step-ca's message", "[cli]") {
  CHECK(refusal_message(401, R"({"status":401,"message":"The request lacked necessary authorization."})"
                             "\n") == "the CA refused the request: 401 The request lacked necessary authorization.");
  CHECK(refusal_message(400, R"({"type":"urn:ietf:params:acme:error:malformed","detail":"bad nonce"})") ==
        "the CA refused the request: 400 bad nonce");
  CHECK(refusal_message(404, "404 page not found\n") == "the CA refused the request: 404 404 page not found");
  CHECK(refusal_message(500, "") == "the CA refused the request: 500 (no message)");
  CHECK(refusal_message(502, "{}") == "the CA refused the request: 502 (no message)");
}

TEST_CASE("refusal_message keeps a hostile body to one bounded line", "[cli]") {
  CHECK(refusal_message(403, R"({"message":"denied\u001b[2J"})") == "the CA refused the request: 403 denied?[2J");
  CHECK(refusal_message(400, "first line\nsecond line") == "the CA refused the request: 400 first line");
  auto long_message = refusal_message(400, std::string(10000, 'x'));
  CHECK(long_message.size() < 400);
  CHECK(long_message.ends_with("..."));
}

TEST_CASE("json_string reads string members only", "[cli]") {
  auto json = nlohmann::json::parse(R"({"a":"x","b":1,"c":null})");
  CHECK(json_string(json, "a") == "x");
  CHECK(json_string(json, "b").empty());
  CHECK(json_string(json, "c").empty());
  CHECK(json_string(json, "d").empty());
  CHECK(json_string(nlohmann::json::array({"a"}), "a").empty());
}
