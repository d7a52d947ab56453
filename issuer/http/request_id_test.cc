#include "issuer/http/request_id.h"

#include <regex>
#include <set>

#include <catch2/catch.hpp>

using namespace keystep::http;

TEST_CASE("new_uuid_v4 prints a version 4 RFC 4122 UUID and never repeats", "[http]") {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = new_uuid_v4();
    CHECK(std::regex_match(id, shape));
    seen.insert(id);
  }
  CHECK(seen.size() == 200);
}
