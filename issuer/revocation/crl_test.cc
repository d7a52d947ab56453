#include "issuer/revocation/crl.h"

#include <openssl/pem.h>

#include <catch2/catch.hpp>

#include "issuer/revocation/testing_revocation.h"

using namespace keystep;
using namespace keystep::revocation;
using namespace keystep::revocation::testing;
using namespace std::chrono_literals;

namespace {

// A fixed instant with a sub-second part, 2026-11-22T10:00:00.750Z.
const common::TimePoint kNow = std::chrono::system_clock::from_time_t(1795341600) + 750ms;

storage::RevocationRecord revoked(std::string serial, int reason, common::TimePoint at) {
  storage::RevocationRecord r;
  r.serial = std::move(serial);
  r.reason_code = reason;
  r.revoked_at = at;
  return r;
}

crypto::X509CrlPtr decode(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return crypto::X509CrlPtr(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

bool signature_verifies(const std::string& der, const signing::CertificateAuthority& ca) {
  auto crl = decode(der);
  return crl && X509_CRL_verify(crl.get(), ca.intermediate().public_key()) == 1;
}

std::string ski_hex(const crypto::Certificate& cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
  return common::hex_encode(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski)));
}

}  // namespace

TEST_CASE("build_crl lists each revoked serial with its time and omits the reason code only for unspecified",
          "[revocation][crl]") {
  auto test_ca = make_test_ca();
  const std::vector<storage::RevocationRecord> records = {
      revoked("308893286343609293989051180431574390766", 1, kNow - 2h),
      revoked("42", 0, kNow - 1h + 300ms),
      revoked("0042000", 10, kNow - 30min),
  };
  auto der = build_crl(*test_ca.ca, records, 7, kNow, 24h, "");
  REQUIRE(der);
  CHECK(signature_verifies(*der, *test_ca.ca));

  auto info = parse_crl(*der);
  REQUIRE(info);
  REQUIRE(info->entries.size() == 3);
  CHECK(info->entries[0].serial == "308893286343609293989051180431574390766");
  CHECK(info->entries[0].reason_code == 1);
  CHECK(info->entries[0].revoked_at == std::chrono::floor<std::chrono::seconds>(kNow - 2h));
  CHECK(info->entries[1].serial == "42");
  CHECK_FALSE(info->entries[1].reason_code.has_value());
  CHECK(info->entries[1].revoked_at == std::chrono::floor<std::chrono::seconds>(kNow - 1h + 300ms));
  CHECK(info->entries[2].serial == "42000");  // leading zeros do not make a different serial
  CHECK(info->entries[2].reason_code == 10);
}

TEST_CASE("build_crl names the intermediate as issuer with its CRL number, key identifier and validity window",
          "[revocation][crl]") {
  auto test_ca = make_test_ca();
  auto der = build_crl(*test_ca.ca, {}, 12345678901LL, kNow, 24h, "");
  REQUIRE(der);
  CHECK(signature_verifies(*der, *test_ca.ca));

  auto info = parse_crl(*der);
  REQUIRE(info);
  CHECK(info->version == 1);  // v2
  CHECK(info->issuer == test_ca.ca->intermediate().subject());
  CHECK(info->number == 12345678901LL);
  CHECK(info->authority_key_id_hex == ski_hex(test_ca.ca->intermediate()));
  CHECK_FALSE(info->authority_key_id_hex.empty());
  const auto this_second = std::chrono::floor<std::chrono::seconds>(kNow);
  CHECK(info->this_update == this_second);
  REQUIRE(info->next_update.has_value());
  CHECK(*info->next_update == this_second + 24h);
  CHECK(info->entries.empty());
  CHECK_FALSE(info->idp_url.has_value());
}

TEST_CASE("build_crl numbers the first CRL zero", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  auto der = build_crl(*test_ca.ca, {}, 0, kNow, 1h, "");
  REQUIRE(der);
  auto info = parse_crl(*der);
  REQUIRE(info);
  CHECK(info->number == 0);
}

TEST_CASE("build_crl adds a critical issuing distribution point with the URL as fullName", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  auto der = build_crl(*test_ca.ca, {revoked("5", 4, kNow)}, 3, kNow, 24h, "http://ca.example.com/1.0/crl");
  REQUIRE(der);
  CHECK(signature_verifies(*der, *test_ca.ca));
  auto info = parse_crl(*der);
  REQUIRE(info);
  CHECK(info->idp_url == "http://ca.example.com/1.0/crl");
  CHECK(info->is_idp_critical);
}

TEST_CASE("build_crl rejects a serial that is not a plain decimal number", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  for (const std::string& serial : std::vector<std::string>{"", "0x1f", "-5", "12a", " 12", "1_000", std::string(65, '9')}) {
    INFO("serial: '" << serial << "'");
    auto der = build_crl(*test_ca.ca, {revoked(serial, 1, kNow)}, 1, kNow, 24h, "");
    REQUIRE_FALSE(der);
    CHECK(der.error().code == Errc::invalid_argument);
  }
}

TEST_CASE("build_crl rejects reason code 7 and codes outside RFC 5280", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  for (int reason : {-1, 7, 11}) {
    INFO("reason " << reason);
    auto der = build_crl(*test_ca.ca, {revoked("1", reason, kNow)}, 1, kNow, 24h, "");
    REQUIRE_FALSE(der);
    CHECK(der.error().code == Errc::invalid_argument);
    CHECK(contains(der.error().message, "reason code"));
  }
  for (int reason : {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}) {
    INFO("reason " << reason);
    CHECK(build_crl(*test_ca.ca, {revoked("1", reason, kNow)}, 1, kNow, 24h, ""));
  }
}

TEST_CASE("build_crl rejects a serial listed twice", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  auto der = build_crl(*test_ca.ca, {revoked("17", 1, kNow), revoked("017", 2, kNow)}, 1, kNow, 24h, "");
  REQUIRE_FALSE(der);
  CHECK(der.error().code == Errc::invalid_argument);
  CHECK(contains(der.error().message, "listed twice"));
}

TEST_CASE("build_crl rejects a negative number, a non-positive validity and a malformed IDP URL",
          "[revocation][crl]") {
  auto test_ca = make_test_ca();
  CHECK(build_crl(*test_ca.ca, {}, -1, kNow, 24h, "").error().code == Errc::invalid_argument);
  CHECK(build_crl(*test_ca.ca, {}, 1, kNow, 0s, "").error().code == Errc::invalid_argument);
  CHECK(build_crl(*test_ca.ca, {}, 1, kNow, -1s, "").error().code == Errc::invalid_argument);
  CHECK(build_crl(*test_ca.ca, {}, 1, kNow, 24h, "ca.example.com/crl").error().code == Errc::invalid_argument);
  CHECK(build_crl(*test_ca.ca, {}, 1, kNow, 24h, "http://ca example/crl").error().code == Errc::invalid_argument);
  CHECK(build_crl(*test_ca.ca, {}, 1, kNow, 24h, "http://ca.example/\xc3\xa9").error().code ==
        Errc::invalid_argument);
}

TEST_CASE("build_crl signs with RSA, P-384 and Ed25519 intermediates", "[revocation][crl]") {
  for (const auto& [kty, crv] : std::vector<std::pair<std::string, std::string>>{
           {"RSA", ""}, {"EC", "P-384"}, {"OKP", "Ed25519"}}) {
    INFO(kty << " " << crv);
    auto test_ca = make_test_ca(kty, crv);
    auto der = build_crl(*test_ca.ca, {revoked("99", 1, kNow)}, 2, kNow, 24h, "https://ca/1.0/crl");
    REQUIRE(der);
    CHECK(signature_verifies(*der, *test_ca.ca));
  }
}

TEST_CASE("crl_to_pem writes one X509 CRL block that decodes to the same DER", "[revocation][crl]") {
  auto test_ca = make_test_ca();
  std::vector<storage::RevocationRecord> many;
  for (int i = 1; i <= 20; ++i) many.push_back(revoked(std::to_string(i * 1000003), i % 2 == 0 ? 1 : 4, kNow));
  auto der = build_crl(*test_ca.ca, many, 1, kNow, 24h, "");
  REQUIRE(der);
  const std::string pem = crl_to_pem(*der);
  CHECK(pem.rfind("-----BEGIN X509 CRL-----\n", 0) == 0);
  CHECK(pem.size() > 30);
  CHECK(pem.substr(pem.size() - 23) == "-----END X509 CRL-----\n");
  crypto::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  crypto::X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(crl);
  unsigned char* raw = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &raw);
  crypto::OpensslStringPtr owned(reinterpret_cast<char*>(raw));
  CHECK(std::string(owned.get(), static_cast<std::size_t>(len)) == *der);
}

TEST_CASE("parse_crl rejects bytes that are not a CRL", "[revocation][crl]") {
  auto info = parse_crl("not a crl");
  REQUIRE_FALSE(info);
  CHECK(info.error().code == Errc::invalid_argument);
}

TEST_CASE("openssl crl verifies the CRL against the chain and shows hex serials and reasons",
          "[revocation][crl][openssl]") {
  require_openssl_cli();
  auto test_ca = make_test_ca();
  TempDir dir;
  const auto chain = dir.write("chain.pem", test_ca.pki.root_pem + test_ca.pki.intermediate_pem);
  auto der = build_crl(*test_ca.ca, {revoked("255", 1, kNow - 1h), revoked("4096", 0, kNow - 1h)}, 9, kNow, 24h,
                       "http://ca.example.com/1.0/crl");
  REQUIRE(der);
  const auto crl = dir.write("crl.der", *der);

  auto result = run("openssl crl -in " + crl + " -inform DER -CAfile " + chain + " -noout -text");
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.output, "verify OK"));
  CHECK(contains(result.output, "Version 2 (0x1)"));
  CHECK(contains(result.output, "Serial Number: FF"));
  CHECK(contains(result.output, "Serial Number: 1000"));
  CHECK(contains(result.output, "X509v3 CRL Reason Code:"));
  CHECK(contains(result.output, "Key Compromise"));
  CHECK(contains(result.output, "X509v3 CRL Number:"));
  CHECK(contains(result.output, "X509v3 Authority Key Identifier:"));
  CHECK(contains(result.output, "X509v3 Issuing Distribution Point: critical"));
  CHECK(contains(result.output, "URI:http://ca.example.com/1.0/crl"));
}

TEST_CASE("openssl verify -crl_check refuses a revoked leaf and accepts a good one", "[revocation][crl][openssl]") {
  require_openssl_cli();
  auto test_ca = make_test_ca();
  auto good = make_leaf(*test_ca.ca, "good.example");
  auto bad = make_leaf(*test_ca.ca, "revoked.example");
  TempDir dir;
  const auto root = dir.write("root.pem", test_ca.pki.root_pem);
  const auto inter = dir.write("inter.pem", test_ca.pki.intermediate_pem);
  const auto good_pem = dir.write("good.pem", good.pem());
  const auto bad_pem = dir.write("bad.pem", bad.pem());
  // thisUpdate must not be in the future for openssl: use the real clock.
  const auto now = std::chrono::system_clock::now();
  auto der = build_crl(*test_ca.ca, {revoked(bad.serial_decimal(), 1, now - 1min)}, 1, now - 1min, 24h, "");
  REQUIRE(der);
  const auto crl = dir.write("crl.pem", crl_to_pem(*der));
  const std::string verify =
      "openssl verify -crl_check -CRLfile " + crl + " -CAfile " + root + " -untrusted " + inter + " ";

  auto rejected = run(verify + bad_pem);
  INFO(rejected.output);
  CHECK(rejected.exit_code != 0);
  CHECK(contains(rejected.output, "certificate revoked"));

  auto accepted = run(verify + good_pem);
  INFO(accepted.output);
  CHECK(accepted.exit_code == 0);
  CHECK(contains(accepted.output, good_pem + ": OK"));
}

TEST_CASE("openssl verify -crl_check honours a CRL with an IDP for leaves that name it as distribution point",
          "[revocation][crl][openssl]") {
  require_openssl_cli();
  auto test_ca = make_test_ca();
  const std::string url = "http://ca.example.com/1.0/crl";
  auto good = make_leaf(*test_ca.ca, "good.example", url);
  auto bad = make_leaf(*test_ca.ca, "revoked.example", url);
  TempDir dir;
  const auto root = dir.write("root.pem", test_ca.pki.root_pem);
  const auto inter = dir.write("inter.pem", test_ca.pki.intermediate_pem);
  const auto good_pem = dir.write("good.pem", good.pem());
  const auto bad_pem = dir.write("bad.pem", bad.pem());
  const auto now = std::chrono::system_clock::now();
  auto der = build_crl(*test_ca.ca, {revoked(bad.serial_decimal(), 4, now - 1min)}, 1, now - 1min, 24h, url);
  REQUIRE(der);
  const auto crl = dir.write("crl.pem", crl_to_pem(*der));
  const std::string verify =
      "openssl verify -crl_check -CRLfile " + crl + " -CAfile " + root + " -untrusted " + inter + " ";

  auto rejected = run(verify + bad_pem);
  INFO(rejected.output);
  CHECK(rejected.exit_code != 0);
  CHECK(contains(rejected.output, "certificate revoked"));

  auto accepted = run(verify + good_pem);
  INFO(accepted.output);
  CHECK(accepted.exit_code == 0);
}

// Pins an interoperability consequence of step-ca's CRL shape: OpenSSL
// treats a CRL with an IDP as covering only certificates whose CRL
// distribution point matches it, so a leaf without one cannot be checked.
TEST_CASE("openssl verify -crl_check reports a different CRL scope for a leaf without a distribution point",
          "[revocation][crl][openssl]") {
  require_openssl_cli();
  auto test_ca = make_test_ca();
  auto leaf = make_leaf(*test_ca.ca, "plain.example");
  TempDir dir;
  const auto root = dir.write("root.pem", test_ca.pki.root_pem);
  const auto inter = dir.write("inter.pem", test_ca.pki.intermediate_pem);
  const auto leaf_pem = dir.write("leaf.pem", leaf.pem());
  const auto now = std::chrono::system_clock::now();
  auto der = build_crl(*test_ca.ca, {}, 1, now - 1min, 24h, "http://ca.example.com/1.0/crl");
  REQUIRE(der);
  const auto crl = dir.write("crl.pem", crl_to_pem(*der));
  auto result = run("openssl verify -crl_check -CRLfile " + crl + " -CAfile " + root + " -untrusted " + inter +
                    " " + leaf_pem);
  INFO(result.output);
  CHECK(result.exit_code != 0);
  CHECK(contains(result.output, "different CRL scope"));
}
