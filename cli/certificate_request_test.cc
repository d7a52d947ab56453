#include "cli/certificate_request.h"

#include <catch2/catch.hpp>

#include "issuer/crypto/csr.h"
#include "issuer/crypto/key.h"

using namespace keystep;
using namespace keystep::cli;

namespace {

crypto::EvpPkeyPtr make_key(const std::string& kty = "EC") {
  auto spec = crypto::parse_key_spec(kty, "", 0);
  REQUIRE(spec);
  auto key = crypto::generate_key(*spec);
  REQUIRE(key);
  return std::move(*key);
}

}  // namespace

TEST_CASE("make_csr_pem puts the subject in the CN and sorts SANs as step-ca does", "[cli]") {
  auto key = make_key();
  auto pem = make_csr_pem(key.get(), "web.internal",
                          {"web.internal", "10.0.0.1", "2001:DB8::1", "ops@internal", "spiffe://internal/web"});
  REQUIRE(pem);
  auto csr = crypto::Csr::from_pem(*pem);  // verifies the signature
  REQUIRE(csr);
  CHECK(csr->common_name() == "web.internal");
  CHECK(csr->sans().dns == std::vector<std::string>{"web.internal"});
  CHECK(csr->sans().ips == std::vector<std::string>{"10.0.0.1", "2001:db8::1"});
  CHECK(csr->sans().emails == std::vector<std::string>{"ops@internal"});
  CHECK(csr->sans().uris == std::vector<std::string>{"spiffe://internal/web"});
  CHECK(crypto::same_public_key(csr->public_key(), key.get()));
}

TEST_CASE("make_csr_pem signs with Ed25519 and RSA keys", "[cli]") {
  for (const char* kty : {"OKP", "RSA"}) {
    auto key = make_key(kty);
    auto pem = make_csr_pem(key.get(), "a.internal", {"a.internal"});
    REQUIRE(pem);
    CHECK(crypto::Csr::from_pem(*pem));
  }
}

TEST_CASE("make_csr_pem encodes each name on its own, so a value cannot add another", "[cli]") {
  auto key = make_key();
  auto pem = make_csr_pem(key.get(), "a.internal", {"a.internal,IP:10.0.0.9"});
  REQUIRE(pem);
  auto csr = crypto::Csr::from_pem(*pem);
  REQUIRE(csr);
  CHECK(csr->sans().dns == std::vector<std::string>{"a.internal,IP:10.0.0.9"});
  CHECK(csr->sans().ips.empty());
}

TEST_CASE("make_csr_pem refuses more names than a CA accepts", "[cli]") {
  auto key = make_key();
  std::vector<std::string> sans(crypto::kMaxCsrSans + 1, "a.internal");
  auto pem = make_csr_pem(key.get(), "a.internal", sans);
  REQUIRE_FALSE(pem);
  CHECK(pem.error().code == Errc::invalid_argument);
}
