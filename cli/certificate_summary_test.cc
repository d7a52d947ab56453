#include "cli/certificate_summary.h"

#include <catch2/catch.hpp>

#include "issuer/crypto/certificate_builder.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::cli;

namespace {

const common::TimePoint kStart{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z

crypto::Certificate make_leaf(const testing::TestPki& pki, EVP_PKEY* leaf_key) {
  auto issuer = crypto::Certificate::from_pem(pki.intermediate_pem);
  REQUIRE(issuer);
  crypto::CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name("web.internal"));
  REQUIRE(b.set_issuer(*issuer));
  REQUIRE(b.set_validity(kStart, kStart + std::chrono::hours(24)));
  REQUIRE(b.set_public_key(leaf_key));
  REQUIRE(b.add_key_usage(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  REQUIRE(b.add_ext_key_usage({NID_server_auth, NID_client_auth}));
  REQUIRE(b.add_subject_alt_names({.dns = {"web.internal"}, .ips = {"10.0.0.1"}, .uris = {"spiffe://i/web"}}, false));
  auto leaf = b.sign(pki.intermediate_key.get());
  REQUIRE(leaf);
  return *leaf;
}

}  // namespace

TEST_CASE("summarize reads what a leaf says", "[cli]") {
  auto pki = testing::make_pki();
  auto key = testing::make_key();
  auto leaf = make_leaf(pki, key.get());
  auto s = summarize(leaf);
  CHECK(s.subject == "CN=web.internal");
  CHECK(s.issuer == "CN=Test Intermediate,O=Keystep Test");
  CHECK(s.serial_hex == leaf.serial_hex());
  CHECK(s.serial_decimal == leaf.serial_decimal());
  CHECK(s.not_before == "2026-01-01T00:00:00Z");
  CHECK(s.not_after == "2026-01-02T00:00:00Z");
  CHECK(s.public_key == "EC P-256");
  CHECK_FALSE(s.is_ca);
  CHECK(s.key_usage == std::vector<std::string>{"Digital Signature", "Key Encipherment"});
  CHECK(s.extended_key_usage == std::vector<std::string>{"Server Authentication", "Client Authentication"});
  CHECK(s.sans.dns == std::vector<std::string>{"web.internal"});
  CHECK(s.sans.ips == std::vector<std::string>{"10.0.0.1"});
  CHECK(s.sans.uris == std::vector<std::string>{"spiffe://i/web"});
  CHECK(s.subject_key_id.size() == 40);
  CHECK(s.authority_key_id.size() == 40);
  CHECK(s.authority_key_id != s.subject_key_id);
  CHECK(s.sha256_fingerprint == leaf.sha256_hex());
}

TEST_CASE("summarize shows a CA's path length", "[cli]") {
  auto pki = testing::make_pki();
  auto intermediate = crypto::Certificate::from_pem(pki.intermediate_pem);
  REQUIRE(intermediate);
  auto s = summarize(*intermediate);
  CHECK(s.is_ca);
  CHECK(s.path_length == 0);
  CHECK(s.key_usage == std::vector<std::string>{"Digital Signature", "Certificate Sign", "CRL Sign"});
  CHECK(to_text(s).find("CA:                  yes, path length 0\n") != std::string::npos);
  CHECK(to_json(s)["path_length"] == 0);
}

TEST_CASE("to_text and to_json carry the same fields", "[cli]") {
  auto pki = testing::make_pki();
  auto key = testing::make_key();
  auto s = summarize(make_leaf(pki, key.get()));
  auto text = to_text(s);
  CHECK(text.rfind("Subject:             CN=web.internal\n", 0) == 0);
  CHECK(text.find("Serial number:       " + s.serial_hex + " (" + s.serial_decimal + ")\n") != std::string::npos);
  CHECK(text.find("Extended key usage:  Server Authentication, Client Authentication\n") != std::string::npos);
  CHECK(text.find("Email addresses:") == std::string::npos);  // empty fields are left out
  CHECK(text.find("SHA-256 fingerprint: " + s.sha256_fingerprint + "\n") != std::string::npos);

  auto json = to_json(s);
  CHECK(json["serial"]["hex"] == s.serial_hex);
  CHECK(json["validity"]["not_after"] == "2026-01-02T00:00:00Z");
  CHECK(json["path_length"].is_null());
  CHECK(json["is_ca"] == false);
  CHECK(json["sans"]["ip"] == nlohmann::json{"10.0.0.1"});
  CHECK(json["sans"]["email"] == nlohmann::json::array());
  CHECK(json["sha256_fingerprint"] == s.sha256_fingerprint);
}
