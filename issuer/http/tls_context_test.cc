#include "issuer/http/tls_context.h"

#include <catch2/catch.hpp>
#include <openssl/err.h>

#include "issuer/http/testing_pki.h"

using namespace keystep;
using namespace keystep::http;
using keystep::http::testing::CertSpec;
using keystep::http::testing::make_cert;
using keystep::http::testing::make_root;

TEST_CASE("parse_pem_certificates reads every block in order", "[http]") {
  auto root = make_root("Root A");
  auto other = make_root("Root B");
  auto certs = parse_pem_certificates(root.cert_pem() + other.cert_pem());
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK(X509_cmp((*certs)[0].get(), root.cert.get()) == 0);
  CHECK(X509_cmp((*certs)[1].get(), other.cert.get()) == 0);
}

TEST_CASE("parse_pem_certificates rejects empty and corrupted PEM", "[http]") {
  auto none = parse_pem_certificates("not a certificate");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::invalid_argument);
  std::string pem = make_root("Root").cert_pem();
  pem[pem.size() / 2] = '!';
  auto corrupt = parse_pem_certificates(pem);
  REQUIRE_FALSE(corrupt);
  CHECK(corrupt.error().code == Errc::invalid_argument);
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("make_server_tls_context rejects a key that does not match the leaf", "[http]") {
  auto root = make_root("Root");
  auto leaf = make_cert(CertSpec{"leaf", {}, {"127.0.0.1"}, false, false, 2}, &root);
  auto stranger = make_cert(CertSpec{"other", {}, {"127.0.0.1"}, false, false, 3}, &root);
  auto ctx = make_server_tls_context({leaf.cert_pem(), stranger.key_pem()}, "");
  REQUIRE_FALSE(ctx);
  CHECK(ctx.error().code == Errc::invalid_argument);
  CHECK(ERR_peek_error() == 0);
  CHECK(make_server_tls_context({leaf.cert_pem(), leaf.key_pem()}, root.cert_pem()));
}

TEST_CASE("make_server_tls_context rejects an encrypted key without prompting", "[http]") {
  auto root = make_root("Root");
  auto leaf = make_cert(CertSpec{"leaf", {}, {"127.0.0.1"}, false, false, 2}, &root);
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  static char pass[] = "secret";
  PEM_write_bio_PKCS8PrivateKey(bio.get(), leaf.key.get(), EVP_aes_128_cbc(), pass, 6, nullptr,
                                nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto ctx = make_server_tls_context(
      {leaf.cert_pem(), std::string(data, static_cast<std::size_t>(len))}, "");
  REQUIRE_FALSE(ctx);
  CHECK(ctx.error().code == Errc::invalid_argument);
}

TEST_CASE("make_client_tls_context needs roots unless insecure", "[http]") {
  CHECK_FALSE(make_client_tls_context("", false, std::nullopt));
  CHECK(make_client_tls_context("", true, std::nullopt));
  CHECK(make_client_tls_context(make_root("Root").cert_pem(), false, std::nullopt));
}
