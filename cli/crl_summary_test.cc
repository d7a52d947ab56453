#include "cli/crl_summary.h"

#include <openssl/pem.h>

#include <catch2/catch.hpp>

#include "issuer/crypto/openssl_ptr.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::cli;

namespace {

const common::TimePoint kThisUpdate{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z

// make_crl_der signs a v2 CRL with CRL number 42 that lists serials 5 and 6.
std::string make_crl_der() {
  auto key = keystep::testing::make_key();
  crypto::X509CrlPtr crl(X509_CRL_new());
  REQUIRE(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1);
  crypto::X509NamePtr issuer(X509_NAME_new());
  X509_NAME_add_entry_by_txt(issuer.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Test CA"), -1,
                             -1, 0);
  REQUIRE(X509_CRL_set_issuer_name(crl.get(), issuer.get()) == 1);
  crypto::Asn1TimePtr this_update(ASN1_TIME_set(nullptr, 1767225600));
  crypto::Asn1TimePtr next_update(ASN1_TIME_set(nullptr, 1767225600 + 86400));
  REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) == 1);
  REQUIRE(X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) == 1);
  for (long serial : {5L, 6L}) {
    X509_REVOKED* revoked = X509_REVOKED_new();
    crypto::Asn1IntegerPtr number(ASN1_INTEGER_new());
    ASN1_INTEGER_set(number.get(), serial);
    X509_REVOKED_set_serialNumber(revoked, number.get());
    X509_REVOKED_set_revocationDate(revoked, this_update.get());
    REQUIRE(X509_CRL_add0_revoked(crl.get(), revoked) == 1);  // takes ownership
  }
  crypto::Asn1IntegerPtr crl_number(ASN1_INTEGER_new());
  ASN1_INTEGER_set(crl_number.get(), 42);
  REQUIRE(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) == 1);
  REQUIRE(X509_CRL_sign(crl.get(), key.get(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  const int size = i2d_X509_CRL(crl.get(), &der);
  REQUIRE(size > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return out;
}

std::string to_pem(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509_CRL(bio.get(), crl.get()) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

TEST_CASE("read_crl reports number, entries and updates of a DER or PEM CRL", "[cli][crl]") {
  const std::string der = make_crl_der();
  for (const bool is_pem : {false, true}) {
    INFO(is_pem);
    auto summary = read_crl(is_pem ? to_pem(der) : der, is_pem);
    REQUIRE(summary);
    CHECK(summary->number == "42");
    CHECK(summary->entries == 2);
    CHECK(summary->this_update == kThisUpdate);
    REQUIRE(summary->next_update);
    CHECK(*summary->next_update == kThisUpdate + std::chrono::hours(24));
  }
}

TEST_CASE("read_crl rejects what is not a CRL in the form asked for", "[cli][crl]") {
  const std::string der = make_crl_der();
  CHECK_FALSE(read_crl(der, true));
  CHECK_FALSE(read_crl(to_pem(der), false));
  auto json = read_crl("{\"status\":404}", false);
  REQUIRE_FALSE(json);
  CHECK(json.error().message.rfind("not a DER CRL", 0) == 0);
}
