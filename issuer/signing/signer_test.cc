#include "issuer/signing/signer.h"

#include <catch2/catch.hpp>

#include <set>

#include "issuer/crypto/certificate_builder.h"
#include "issuer/crypto/csr.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::crypto;
using namespace keystep::signing;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const CertificateAuthority> load(const testing::TestPki& pki) {
  auto ca = CertificateAuthority::load({pki.intermediate_pem, pki.intermediate_key_pem, pki.root_pem},
                                       std::chrono::system_clock::now());
  REQUIRE(ca);
  return *ca;
}

// verifies checks the chain as a client would: from the encoded leaf.
bool verifies(const IssuedCertificate& issued, const std::string& root_pem) {
  auto root = Certificate::from_pem(root_pem);
  auto leaf = Certificate::from_der(issued.leaf.der().data(), issued.leaf.der().size());
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root->get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < issued.chain.size(); ++i) sk_X509_push(untrusted, issued.chain[i].get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), untrusted);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  sk_X509_free(untrusted);
  return ok;
}

LeafRequest leaf_request(EVP_PKEY* key) {
  auto now = std::chrono::system_clock::now();
  return {.public_key = key,
          .common_name = "web.internal",
          .sans = {.dns = {"web.internal"}, .ips = {"10.0.0.7"}},
          .not_before = now - 1min,
          .not_after = now + 24h,
          .provisioner = {ProvisionerType::jwk, "admin", "kid-1"}};
}

}  // namespace

TEST_CASE("Signer issues step-ca's default leaf profile that chains to the root", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key();
  auto issued = signer.sign(leaf_request(key.get()));
  REQUIRE(issued);
  X509* x = issued->leaf.get();
  CHECK(verifies(*issued, pki.root_pem));
  CHECK(X509_get_ext_count(x) == 6);
  CHECK(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
  CHECK((X509_get_extended_key_usage(x) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK(X509_get0_subject_key_id(x) != nullptr);
  CHECK(X509_get0_authority_key_id(x) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(signer.authority().intermediate().get())) == 0);
  CHECK_FALSE(issued->leaf.is_ca());
  CHECK(issued->leaf.common_name() == "web.internal");
  CHECK(issued->leaf.subject_alt_names().ips == std::vector<std::string>{"10.0.0.7"});
  REQUIRE(issued->chain.size() == 2);
  CHECK(issued->chain[1].sha256_hex() == signer.authority().intermediate().sha256_hex());
  auto ext = decode_provisioner_extension(x);
  REQUIRE(ext);
  CHECK(ext->name == "admin");
  CHECK(ext->credential_id == "kid-1");
  CHECK(ext->type == ProvisionerType::jwk);
  // SAN is not critical when the subject has a CN.
  int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 0);
}

TEST_CASE("Signer gives RSA leaves keyEncipherment and makes SANs critical without a subject", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key("RSA", "", 2048);
  auto req = leaf_request(key.get());
  req.common_name = "";
  auto issued = signer.sign(req);
  REQUIRE(issued);
  CHECK(X509_get_key_usage(issued->leaf.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  int idx = X509_get_ext_by_NID(issued->leaf.get(), NID_subject_alt_name, -1);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(issued->leaf.get(), idx)) == 1);
}

TEST_CASE("Signer serials are random, positive and 128 bits wide", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key();
  std::set<std::string> serials;
  for (int i = 0; i < 50; ++i) {
    auto issued = signer.sign(leaf_request(key.get()));
    REQUIRE(issued);
    const ASN1_INTEGER* serial = X509_get0_serialNumber(issued->leaf.get());
    CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER
    CHECK(issued->leaf.serial_hex().size() <= 32);
    serials.insert(issued->leaf.serial_hex());
  }
  CHECK(serials.size() == 50);
}

TEST_CASE("Signer clamps notAfter to the intermediate's notAfter", "[signing]") {
  auto pki = testing::make_pki();
  auto ca = load(pki);
  Signer signer(ca);
  auto key = testing::make_key();
  auto req = leaf_request(key.get());
  req.not_after = std::chrono::system_clock::now() + 24h * 3650;
  auto issued = signer.sign(req);
  REQUIRE(issued);
  CHECK(issued->leaf.not_after() == ca->intermediate().not_after());
}

TEST_CASE("Signer refuses names outside the intermediate's name constraints", "[signing]") {
  auto root_key = testing::make_key();
  auto inter_key = testing::make_key();
  auto root = testing::make_ca_cert(root_key.get(), "Root", nullptr, root_key.get(), 1);
  CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name("Constrained"));
  REQUIRE(b.set_issuer(root));
  auto now = std::chrono::system_clock::now();
  REQUIRE(b.set_validity(now - 1h, now + 240h));
  REQUIRE(b.set_public_key(inter_key.get()));
  REQUIRE(b.add_basic_constraints(true, 0));
  REQUIRE(b.add_key_usage(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  REQUIRE(b.add_name_constraints({.permitted_dns = {".internal"}}));
  auto inter = b.sign(root_key.get());
  REQUIRE(inter);
  auto ca = CertificateAuthority::load(
      {inter->pem(), std::string(private_key_to_pem(inter_key.get())->view()), root.pem()}, now);
  REQUIRE(ca);
  Signer signer(*ca);
  auto key = testing::make_key();
  auto req = leaf_request(key.get());
  req.common_name = "";
  req.sans = {.dns = {"a.internal"}};
  CHECK(signer.sign(req));
  req.sans = {.dns = {"a.example.com"}};
  auto denied = signer.sign(req);
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == Errc::permission_denied);
}

TEST_CASE("Signer copies a CSR's encoded public key unchanged for every key type", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  for (auto [kty, crv, bits] : {std::tuple{"EC", "P-256", 0}, std::tuple{"EC", "P-384", 0},
                                std::tuple{"RSA", "", 2048}, std::tuple{"OKP", "", 0}}) {
    auto key = testing::make_key(kty, crv, bits);
    auto csr = Csr::from_pem(testing::make_csr_pem(key.get(), {.cn = "k.internal"}));
    REQUIRE(csr);
    auto req = leaf_request(csr->public_key());
    req.public_key_info = csr->public_key_info();
    auto issued = signer.sign(req);
    REQUIRE(issued);
    CHECK(same_public_key(issued->leaf.public_key(), key.get()));
    auto reparsed = Certificate::from_der(issued->leaf.der().data(), issued->leaf.der().size());
    REQUIRE(reparsed);
    CHECK(same_public_key(reparsed->public_key(), key.get()));
    CHECK(verifies(*issued, pki.root_pem));
    CHECK(X509_get0_subject_key_id(issued->leaf.get()) != nullptr);
  }
}

TEST_CASE("encode_distribution_extensions refuses URLs that are not absolute http(s)", "[signing]") {
  CHECK(encode_distribution_extensions({})->empty());
  auto both = encode_distribution_extensions({"http://ca/crl", "http://ca/ocsp", "http://ca/int.pem"});
  REQUIRE(both);
  CHECK(both->size() == 2);
  auto bad = encode_distribution_extensions({"ldap://ca/crl", "", ""});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("crl.distributionPoint"));
  CHECK_FALSE(encode_distribution_extensions({"", "http://ca/ocsp,URI:http://evil", ""}));
}

namespace {

std::vector<int> eku_nids(X509* x) {
  std::vector<int> out;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) out.push_back(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)));
  EXTENDED_KEY_USAGE_free(eku);
  return out;
}

bool has_ext(X509* x, int nid) { return X509_get_ext_by_NID(x, nid, -1) >= 0; }

}  // namespace

TEST_CASE("Signer encodes exactly the requested key usages", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key();
  auto req = leaf_request(key.get());
  req.usages = policy::KeyUsages{.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_NON_REPUDIATION,
                                 .ext_key_usage = {NID_client_auth, NID_code_sign}};
  auto issued = signer.sign(req);
  REQUIRE(issued);
  X509* x = issued->leaf.get();
  CHECK(X509_get_key_usage(x) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_NON_REPUDIATION));
  CHECK(eku_nids(x) == std::vector<int>{NID_client_auth, NID_code_sign});
  CHECK_FALSE(issued->leaf.is_ca());
  CHECK_FALSE(has_ext(x, NID_basic_constraints));
}

TEST_CASE("Signer leaves out extKeyUsage when the requested usages have none", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key();
  auto req = leaf_request(key.get());
  req.usages = policy::KeyUsages{.key_usage = KU_DIGITAL_SIGNATURE, .ext_key_usage = {}};
  auto issued = signer.sign(req);
  REQUIRE(issued);
  CHECK(X509_get_key_usage(issued->leaf.get()) == KU_DIGITAL_SIGNATURE);
  CHECK_FALSE(has_ext(issued->leaf.get(), NID_ext_key_usage));
}

TEST_CASE("Signer makes a CA with critical basicConstraints, pathlen 0 and certificate signing", "[signing]") {
  auto pki = testing::make_pki();
  Signer signer(load(pki));
  auto key = testing::make_key();
  auto req = leaf_request(key.get());
  req.is_ca = true;
  auto issued = signer.sign(req);
  REQUIRE(issued);
  X509* x = issued->leaf.get();
  CHECK(issued->leaf.is_ca());
  int idx = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
  REQUIRE(idx >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1);
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
  REQUIRE(bc != nullptr);
  CHECK(bc->ca != 0);
  REQUIRE(bc->pathlen != nullptr);
  CHECK(ASN1_INTEGER_get(bc->pathlen) == 0);
  BASIC_CONSTRAINTS_free(bc);
  CHECK(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
  CHECK_FALSE(has_ext(x, NID_ext_key_usage));

  req.usages = policy::KeyUsages{.key_usage = KU_KEY_ENCIPHERMENT, .ext_key_usage = {NID_server_auth}};
  auto with_usages = signer.sign(req);
  REQUIRE(with_usages);
  CHECK(X509_get_key_usage(with_usages->leaf.get()) ==
        (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(eku_nids(with_usages->leaf.get()) == std::vector<int>{NID_server_auth});
}
