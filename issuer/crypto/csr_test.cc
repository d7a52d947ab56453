#include "issuer/crypto/csr.h"

#include <catch2/catch.hpp>

#include "issuer/crypto/key.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::crypto;

TEST_CASE("Csr::from_pem reads the common name and every SAN type", "[crypto]") {
  auto key = testing::make_key();
  auto pem = testing::make_csr_pem(key.get(), {.cn = "web.internal",
                                                .dns = {"web.internal", "www.internal"},
                                                .ips = {"10.0.0.1", "::1"},
                                                .emails = {"ops@internal"},
                                                .uris = {"spiffe://internal/web"}});
  auto csr = Csr::from_pem(pem);
  REQUIRE(csr);
  CHECK(csr->common_name() == "web.internal");
  CHECK(csr->sans().dns == std::vector<std::string>{"web.internal", "www.internal"});
  CHECK(csr->sans().ips == std::vector<std::string>{"10.0.0.1", "::1"});
  CHECK(csr->sans().emails == std::vector<std::string>{"ops@internal"});
  CHECK(csr->sans().uris == std::vector<std::string>{"spiffe://internal/web"});
  CHECK_FALSE(csr->requests_ca());
  CHECK(same_public_key(csr->public_key(), key.get()));
}

TEST_CASE("Csr::from_pem rejects a CSR whose signature does not verify", "[crypto]") {
  auto key = testing::make_key();
  auto pem = testing::make_csr_pem(key.get(), {.cn = "a.internal"});
  // Flip one character of the base64 body near the end (inside the signature).
  auto pos = pem.rfind("-----END");
  std::string tampered = pem;
  char& c = tampered[pos - 10];
  c = c == 'A' ? 'B' : 'A';
  auto csr = Csr::from_pem(tampered);
  REQUIRE_FALSE(csr);
  CHECK(csr.error().code == Errc::invalid_argument);
}

TEST_CASE("Csr::from_pem rejects garbage and oversized input", "[crypto]") {
  CHECK_FALSE(Csr::from_pem("not a csr"));
  auto big = Csr::from_pem(std::string(kMaxCsrPemBytes + 1, 'A'));
  REQUIRE_FALSE(big);
  CHECK(big.error().message == "csr larger than 64 KiB");
}

TEST_CASE("Csr reports a request for a CA certificate", "[crypto]") {
  auto key = testing::make_key();
  auto csr = Csr::from_pem(testing::make_csr_pem(key.get(), {.cn = "ca", .is_ca = true}));
  REQUIRE(csr);
  CHECK(csr->requests_ca());
}

TEST_CASE("Csr rejects more than 100 SANs", "[crypto]") {
  auto key = testing::make_key();
  testing::CsrSpec spec{.cn = "x"};
  for (int i = 0; i < 101; ++i) spec.dns.push_back("h" + std::to_string(i) + ".internal");
  auto csr = Csr::from_pem(testing::make_csr_pem(key.get(), spec));
  REQUIRE_FALSE(csr);
  CHECK(csr.error().message.find("more than 100") != std::string::npos);
}
