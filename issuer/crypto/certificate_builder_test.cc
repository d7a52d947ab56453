#include "issuer/crypto/certificate_builder.h"

#include <catch2/catch.hpp>

#include <openssl/err.h>

#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::crypto;

TEST_CASE("CertificateBuilder makes a root and an intermediate that chain", "[crypto]") {
  auto pki = testing::make_pki();
  auto root = Certificate::from_pem(pki.root_pem);
  auto inter = Certificate::from_pem(pki.intermediate_pem);
  REQUIRE(root);
  REQUIRE(inter);
  CHECK(root->is_ca());
  CHECK(root->is_self_signed());
  CHECK(inter->is_ca());
  CHECK_FALSE(inter->is_self_signed());
  CHECK(inter->path_length() == 0);
  CHECK(inter->can_sign_certificates());
  CHECK(X509_verify(inter->get(), root->public_key()) == 1);
  CHECK(inter->issuer() == root->subject());
  CHECK(root->sha256_hex().size() == 64);
  CHECK(X509_get0_authority_key_id(inter->get()) != nullptr);
}

TEST_CASE("CertificateBuilder encodes SANs, name constraints and serials", "[crypto]") {
  auto key = testing::make_key();
  CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name("leaf"));
  REQUIRE(b.set_self_issued());
  auto now = std::chrono::system_clock::now();
  REQUIRE(b.set_validity(now, now + std::chrono::hours(1)));
  REQUIRE(b.set_public_key(key.get()));
  REQUIRE(b.add_subject_alt_names({.dns = {"a.internal"}, .ips = {"10.1.2.3", "fd00::1"},
                                   .emails = {"x@internal"}, .uris = {"spiffe://internal/a"}},
                                  false));
  REQUIRE(b.add_name_constraints({.permitted_dns = {".internal"}, .permitted_ips = {"10.0.0.0/8"}}));
  auto cert = b.sign(key.get());
  REQUIRE(cert);
  auto sans = cert->subject_alt_names();
  CHECK(sans.dns == std::vector<std::string>{"a.internal"});
  CHECK(sans.ips == std::vector<std::string>{"10.1.2.3", "fd00::1"});
  CHECK(sans.emails == std::vector<std::string>{"x@internal"});
  CHECK(sans.uris == std::vector<std::string>{"spiffe://internal/a"});
  CHECK(cert->serial_hex().size() >= 20);
  CHECK(cert->common_name() == "leaf");
}

TEST_CASE("CertificateBuilder rejects a malformed IP SAN", "[crypto]") {
  CertificateBuilder b;
  auto s = b.add_subject_alt_names({.ips = {"10.0.0.256"}}, false);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Errc::invalid_argument);
}

TEST_CASE("Certificate::chain_from_pem keeps file order and bounds the length", "[crypto]") {
  auto pki = testing::make_pki();
  auto chain = Certificate::chain_from_pem(pki.intermediate_pem + pki.root_pem);
  REQUIRE(chain);
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].common_name() == "Test Intermediate");
  std::string many;
  for (int i = 0; i < 9; ++i) many += pki.root_pem;
  CHECK_FALSE(Certificate::chain_from_pem(many));
  CHECK_FALSE(Certificate::chain_from_pem("nothing here"));
}

TEST_CASE("normalize_fingerprint drops separators and case", "[crypto]") {
  CHECK(normalize_fingerprint("AB:cd-EF") == "abcdef");
}

TEST_CASE("CertificateBuilder never lets a certificate hand out the private key it was built from", "[crypto]") {
  auto key = testing::make_key();
  CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_self_issued());
  REQUIRE(b.set_subject_common_name("self"));
  auto now = std::chrono::system_clock::now();
  REQUIRE(b.set_validity(now, now + std::chrono::hours(1)));
  REQUIRE(b.set_public_key(key.get()));
  auto cert = b.sign(key.get());
  REQUIRE(cert);
  CHECK(same_public_key(cert->public_key(), key.get()));
  // A private export of the certificate's key must fail: it has no private half.
  BioPtr bio(BIO_new(BIO_s_mem()));
  CHECK(PEM_write_bio_PrivateKey(bio.get(), cert->public_key(), nullptr, nullptr, 0, nullptr, nullptr) != 1);
  ERR_clear_error();
}
