#include "issuer/acme/eab.h"

#include <catch2/catch.hpp>

namespace keystep::acme {
namespace {

const char kUrl[] = "https://ca.internal/acme/acme/new-account";

TEST_CASE("an External Account Binding verifies only with its key, url and account key", "[acme]") {
  AcmeProvisionerConfig config;
  config.eab_keys = {{"team-a", "0123456789abcdef0123456789abcdef"}, {"team-b", "fedcba9876543210fedcba9876543210"}};
  config.require_eab = true;
  auto account = jose::Jwk::generate("EC", 0, "P-256");
  auto other = jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(account);
  REQUIRE(other);

  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    auto kid = verify_eab(sign_eab(config.eab_keys[0], kUrl, *account, alg), kUrl, *account, config);
    REQUIRE(kid);
    CHECK(*kid == "team-a");
  }
  // MACed with team-b's key but naming team-a.
  EabKey forged{"team-a", config.eab_keys[1].hmac_key};
  auto bad_mac = verify_eab(sign_eab(forged, kUrl, *account), kUrl, *account, config);
  REQUIRE_FALSE(bad_mac);
  CHECK(bad_mac.error().type == "unauthorized");
  // Bound to another account key.
  auto wrong_key = verify_eab(sign_eab(config.eab_keys[0], kUrl, *other), kUrl, *account, config);
  REQUIRE_FALSE(wrong_key);
  CHECK(wrong_key.error().type == "unauthorized");
  // Made for another URL.
  auto wrong_url = verify_eab(sign_eab(config.eab_keys[0], "https://elsewhere/new-account", *account), kUrl, *account, config);
  REQUIRE_FALSE(wrong_url);
  CHECK(wrong_url.error().type == "unauthorized");
  // An unknown key id.
  auto unknown = verify_eab(sign_eab({"team-z", config.eab_keys[0].hmac_key}, kUrl, *account), kUrl, *account, config);
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().detail, Catch::Contains("unknown key id"));
  // Not a JWS at all.
  CHECK(verify_eab(nlohmann::json{{"protected", 1}}, kUrl, *account, config).error().type == "malformed");
}

}  // namespace
}  // namespace keystep::acme
