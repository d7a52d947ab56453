#include "issuer/signing/certificate_authority.h"

#include <catch2/catch.hpp>

#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::crypto;
using namespace keystep::signing;
using namespace std::chrono_literals;

namespace {
const auto kNow = std::chrono::system_clock::now();

std::string key_pem(EVP_PKEY* k) { return std::string(private_key_to_pem(k)->view()); }
}  // namespace

TEST_CASE("CertificateAuthority loads a valid intermediate and its root", "[signing]") {
  auto pki = testing::make_pki();
  auto ca = CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, pki.root_pem}, kNow);
  REQUIRE(ca);
  CHECK((*ca)->intermediate().common_name() == "Test Intermediate");
  CHECK((*ca)->roots().size() == 1);
}

TEST_CASE("CertificateAuthority refuses a key that does not match the certificate", "[signing]") {
  auto pki = testing::make_pki();
  auto other = testing::make_key();
  auto ca = CertificateAuthority::load({pki.intermediate_pem, key_pem(other.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca);
  CHECK(ca.error().message.find("does not match") != std::string::npos);
}

TEST_CASE("CertificateAuthority refuses to sign with a self-signed root and says how to fix it", "[signing]") {
  auto pki = testing::make_pki();
  auto ca = CertificateAuthority::load({pki.root_pem, key_pem(pki.root_key.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca);
  CHECK(ca.error().code == Errc::failed_precondition);
  CHECK(ca.error().message.find("self-signed root") != std::string::npos);
  CHECK(ca.error().message.find("keystep ca sign-intermediate") != std::string::npos);
}

TEST_CASE("CertificateAuthority refuses an intermediate outside its validity", "[signing]") {
  auto pki = testing::make_pki();
  auto root = Certificate::from_pem(pki.root_pem);
  auto key = testing::make_key();
  auto expired = testing::make_ca_cert(key.get(), "Old", &*root, pki.root_key.get(), 0, 1h, -48h);
  auto ca = CertificateAuthority::load({expired.pem(), key_pem(key.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca);
  CHECK(ca.error().message.find("has expired") != std::string::npos);
  auto future = testing::make_ca_cert(key.get(), "Future", &*root, pki.root_key.get(), 0, 96h, 48h);
  auto ca2 = CertificateAuthority::load({future.pem(), key_pem(key.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca2);
  CHECK(ca2.error().message.find("not valid yet") != std::string::npos);
}

TEST_CASE("CertificateAuthority refuses an intermediate that does not chain to the root", "[signing]") {
  auto pki = testing::make_pki();
  auto other = testing::make_pki();
  auto ca = CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, other.root_pem}, kNow);
  REQUIRE_FALSE(ca);
  CHECK(ca.error().message.find("does not chain to the configured root") != std::string::npos);
}

TEST_CASE("CertificateAuthority refuses a certificate that is not a CA or cannot sign certificates", "[signing]") {
  auto pki = testing::make_pki();
  auto root = Certificate::from_pem(pki.root_pem);
  auto key = testing::make_key();
  CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name("Not a CA"));
  REQUIRE(b.set_issuer(*root));
  REQUIRE(b.set_validity(kNow - 1h, kNow + 24h));
  REQUIRE(b.set_public_key(key.get()));
  REQUIRE(b.add_basic_constraints(false, -1));
  auto leaf = b.sign(pki.root_key.get());
  auto ca = CertificateAuthority::load({leaf->pem(), key_pem(key.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca);
  CHECK(ca.error().message.find("not a CA") != std::string::npos);

  CertificateBuilder b2;
  REQUIRE(b2.set_random_serial());
  REQUIRE(b2.set_subject_common_name("No keyCertSign"));
  REQUIRE(b2.set_issuer(*root));
  REQUIRE(b2.set_validity(kNow - 1h, kNow + 24h));
  REQUIRE(b2.set_public_key(key.get()));
  REQUIRE(b2.add_basic_constraints(true, 0));
  REQUIRE(b2.add_key_usage(KU_DIGITAL_SIGNATURE));
  auto nosign = b2.sign(pki.root_key.get());
  auto ca2 = CertificateAuthority::load({nosign->pem(), key_pem(key.get()), pki.root_pem}, kNow);
  REQUIRE_FALSE(ca2);
  CHECK(ca2.error().message.find("keyCertSign") != std::string::npos);
}

TEST_CASE("CertificateAuthority reads an encrypted intermediate key with its password", "[signing]") {
  auto pki = testing::make_pki();
  SecretBytes pw("s3cret");
  auto enc = private_key_to_pem(pki.intermediate_key.get(), &pw);
  auto ca = CertificateAuthority::load({pki.intermediate_pem, std::string(enc->view()), pki.root_pem, &pw}, kNow);
  CHECK(ca);
  auto no_pw = CertificateAuthority::load({pki.intermediate_pem, std::string(enc->view()), pki.root_pem}, kNow);
  REQUIRE_FALSE(no_pw);
}
