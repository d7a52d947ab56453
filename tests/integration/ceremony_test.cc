// The offline ceremony (`keystep init`) and the first certificate from it,
// judged by openssl: files and modes, the Secret manifest, the config, the
// CA certificates, and the leaf profile of `keystep ca certificate`.

#include <sys/stat.h>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw HarnessError("cannot stat " + path.string());
  return st.st_mode & 07777;
}

std::string base64_decoded(const std::string& text) {
  auto bytes = common::base64_decode(text);
  if (!bytes) throw HarnessError("not base64: " + bytes.error().message);
  return std::string(bytes->begin(), bytes->end());
}

// Leaf is a certificate saved by `keystep ca certificate` and its key.
struct Leaf {
  fs::path crt, key;
  fs::path leaf_only;  // the first certificate of crt
  std::string text;    // openssl x509 -text of the leaf
};

Leaf issue(RunningCa& ca, const std::string& subject, const std::vector<std::string>& extra) {
  Leaf leaf{get_certificate(ca.pki, ca.server, ca.tmp.path(), subject, extra), ca.tmp / (subject + ".key"),
            ca.tmp / (subject + "-0.crt"), ""};
  REQUIRE(split_pem_chain(leaf.crt, ca.tmp.path(), subject) == 2);  // leaf, intermediate
  leaf.text = x509_text(leaf.leaf_only);
  return leaf;
}

void check_verifies(const RunningCa& ca, const Leaf& leaf) {
  auto verified = verify_chain(ca.pki.root_cert(), ca.pki.intermediate_cert(), leaf.crt);
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);
  CHECK_THAT(verified.out, Contains(": OK"));
}

TEST_CASE("keystep init writes every PKI file, private ones readable only by their owner", "[ceremony]") {
  TempDir tmp;
  auto init = keystep(init_args(tmp, tmp / "ca", {}));
  INFO(init.describe());
  REQUIRE(init.exit_code == 0);
  Pki pki{.dir = tmp / "ca", .password_file = password_file(tmp)};

  for (const auto& file : {pki.root_key(), pki.intermediate_key(), pki.provisioner_key(), pki.secret_manifest()}) {
    INFO(file);
    REQUIRE(fs::is_regular_file(file));
    CHECK(mode_of(file) == 0600);
  }
  for (const auto& file : {pki.root_cert(), pki.intermediate_cert(), pki.config()}) {
    INFO(file);
    REQUIRE(fs::is_regular_file(file));
    CHECK((mode_of(file) & 0600) == 0600);
    CHECK((mode_of(file) & 0022) == 0);  // nobody else may change it
  }
  CHECK((mode_of(pki.dir / "secrets") & 0077) == 0);

  SECTION("keys are encrypted under the password") {
    CHECK_THAT(read_text(pki.root_key()), Contains("ENCRYPTED PRIVATE KEY"));
    CHECK_THAT(read_text(pki.intermediate_key()), Contains("ENCRYPTED PRIVATE KEY"));
    const std::string jwe = read_text(pki.provisioner_key());
    CHECK(std::count(jwe.begin(), jwe.end(), '.') == 4);  // compact JWE, not a plain JWK
    CHECK(jwe.find("\"d\"") == std::string::npos);
  }
  SECTION("it prints the root fingerprint openssl computes") {
    CHECK_THAT(init.out, Contains(sha256_hex(pki.root_cert())));
  }
}

TEST_CASE("keystep init's Secret manifest holds the intermediate chain, its key and the root, never the root key",
          "[ceremony]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  YAML::Node secret = YAML::LoadFile(pki.secret_manifest().string());
  CHECK(secret["kind"].as<std::string>() == "Secret");
  CHECK(secret["type"].as<std::string>() == "kubernetes.io/tls");
  std::vector<std::string> keys;
  for (const auto& kv : secret["data"]) keys.push_back(kv.first.as<std::string>());
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"ca.crt", "tls.crt", "tls.key"});

  CHECK(base64_decoded(secret["data"]["tls.crt"].as<std::string>()) == read_text(pki.intermediate_cert()));
  CHECK(base64_decoded(secret["data"]["ca.crt"].as<std::string>()) == read_text(pki.root_cert()));
  write_text(tmp / "tls.key", base64_decoded(secret["data"]["tls.key"].as<std::string>()));
  const std::string secret_public_key = private_key_public_key(tmp / "tls.key");
  CHECK(secret_public_key == certificate_public_key(pki.intermediate_cert()));
  CHECK(secret_public_key != certificate_public_key(pki.root_cert()));
}

TEST_CASE("keystep init writes a config naming the PKI's files, its DNS names and its provisioner", "[ceremony]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  YAML::Node config = YAML::LoadFile(pki.config().string());
  const fs::path base = pki.config().parent_path();
  CHECK(fs::equivalent(base / config["ca"]["root"].as<std::string>(), pki.root_cert()));
  CHECK(fs::equivalent(base / config["ca"]["crt"].as<std::string>(), pki.intermediate_cert()));
  CHECK(fs::equivalent(base / config["ca"]["key"].as<std::string>(), pki.intermediate_key()));
  CHECK(config["dnsNames"].as<std::vector<std::string>>() == std::vector<std::string>{"localhost", "127.0.0.1"});
  REQUIRE(config["provisioners"].size() == 1);
  const YAML::Node admin = config["provisioners"][0];
  CHECK(admin["name"].as<std::string>() == "admin");
  CHECK(admin["type"].as<std::string>() == "JWK");
  CHECK_FALSE(admin["key"]["kid"].as<std::string>().empty());
  CHECK_FALSE(admin["key"]["d"]);  // the public half only
  CHECK_FALSE(admin["encryptedKey"].as<std::string>().empty());
  CHECK(read_text(pki.config()).find(read_text(pki.root_key())) == std::string::npos);
}

TEST_CASE("keystep init makes a self-signed root and a pathlen-0 intermediate that openssl verifies", "[ceremony]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca");
  auto verified = verify_chain(pki.root_cert(), "", pki.intermediate_cert());
  INFO(verified.describe());
  CHECK(verified.exit_code == 0);

  const std::string root = x509_text(pki.root_cert());
  CHECK_THAT(root, Contains("CN = Test CA Root CA"));
  auto root_bc = extension(root, "X509v3 Basic Constraints");
  CHECK(root_bc.critical);
  CHECK_THAT(root_bc.value, Contains("CA:TRUE"));
  auto root_ku = extension(root, "X509v3 Key Usage");
  CHECK(root_ku.critical);
  CHECK_THAT(root_ku.value, Contains("Certificate Sign") && Contains("CRL Sign"));

  const std::string inter = x509_text(pki.intermediate_cert());
  CHECK_THAT(inter, Contains("Test CA Intermediate CA"));
  auto bc = extension(inter, "X509v3 Basic Constraints");
  CHECK(bc.critical);
  CHECK_THAT(bc.value, Contains("CA:TRUE") && Contains("pathlen:0"));
  auto ku = extension(inter, "X509v3 Key Usage");
  CHECK(ku.critical);
  CHECK_THAT(ku.value, Contains("Certificate Sign") && Contains("CRL Sign"));
  CHECK(key_identifier(extension(inter, "X509v3 Authority Key Identifier")) ==
        key_identifier(extension(root, "X509v3 Subject Key Identifier")));
}

TEST_CASE("keystep ca certificate gets a leaf with step's default profile that openssl verifies", "[ceremony]") {
  RunningCa ca;
  Leaf leaf = issue(ca, "web.localhost", {"--san", "web.localhost", "--san", "127.0.0.1"});
  check_verifies(ca, leaf);
  CHECK(mode_of(leaf.key) == 0600);
  CHECK(private_key_public_key(leaf.key) == certificate_public_key(leaf.leaf_only));

  CHECK_THAT(leaf.text, Contains("Subject: CN = web.localhost"));
  auto san = extension(leaf.text, "X509v3 Subject Alternative Name");
  CHECK_THAT(san.value, Contains("DNS:web.localhost") && Contains("IP Address:127.0.0.1"));
  auto ku = extension(leaf.text, "X509v3 Key Usage");
  CHECK(ku.critical);
  CHECK(ku.value == "Digital Signature");
  auto eku = extension(leaf.text, "X509v3 Extended Key Usage");
  CHECK_THAT(eku.value, Contains("TLS Web Server Authentication") && Contains("TLS Web Client Authentication"));
  CHECK_FALSE(extension(leaf.text, "X509v3 Basic Constraints").present);
  auto ski = key_identifier(extension(leaf.text, "X509v3 Subject Key Identifier"));
  CHECK_FALSE(ski.empty());
  auto aki = key_identifier(extension(leaf.text, "X509v3 Authority Key Identifier"));
  CHECK(aki == key_identifier(extension(x509_text(ca.pki.intermediate_cert()), "X509v3 Subject Key Identifier")));
  CHECK_FALSE(aki.empty());
  CHECK_THAT(leaf.text, Contains("1.3.6.1.4.1.37476.9000.64.1"));  // step's provisioner extension

  SECTION("the serial is a positive number of at most 128 bits") {
    std::string serial = serial_hex(leaf.leaf_only);
    serial.erase(0, serial.find_first_not_of('0'));
    CHECK_FALSE(serial.empty());
    CHECK(serial.size() <= 32);
  }
  SECTION("the leaf lasts the default 24h plus the 1m backdate") {
    auto v = validity(leaf.leaf_only);
    CHECK(v.length() >= 24h + 1min - 2s);
    CHECK(v.length() <= 24h + 1min + 2s);
  }
  SECTION("the server logged the issuance") { CHECK(ca.server.count("certificate issued") == 1); }
}

TEST_CASE("keystep ca certificate --not-after 1h gets a leaf of 1h plus the backdate", "[ceremony]") {
  RunningCa ca;
  Leaf leaf = issue(ca, "short.localhost", {"--not-after", "1h"});
  check_verifies(ca, leaf);
  auto v = validity(leaf.leaf_only);
  CHECK(v.length() >= 1h + 1min - 2s);
  CHECK(v.length() <= 1h + 1min + 2s);
}

TEST_CASE("keystep ca certificate --kty RSA gets an RSA leaf with keyEncipherment that openssl verifies",
          "[ceremony]") {
  RunningCa ca;
  Leaf leaf = issue(ca, "rsa.localhost", {"--kty", "RSA"});
  check_verifies(ca, leaf);
  CHECK_THAT(leaf.text, Contains("Public Key Algorithm: rsaEncryption"));
  CHECK_THAT(leaf.text, Contains("Public-Key: (2048 bit)"));
  auto ku = extension(leaf.text, "X509v3 Key Usage");
  CHECK(ku.critical);
  CHECK_THAT(ku.value, Contains("Digital Signature") && Contains("Key Encipherment"));
}

TEST_CASE("keystep ca certificate --kty OKP gets an Ed25519 leaf that openssl verifies", "[ceremony]") {
  RunningCa ca;
  Leaf leaf = issue(ca, "ed.localhost", {"--kty", "OKP"});
  check_verifies(ca, leaf);
  CHECK_THAT(leaf.text, Contains("Public Key Algorithm: ED25519"));
  CHECK(extension(leaf.text, "X509v3 Key Usage").value == "Digital Signature");
}

TEST_CASE("keystep init --kty EC --crv P-384 makes a P-384 CA that signs leaves with ECDSA SHA-384", "[ceremony]") {
  RunningCa ca({.extra = {"--kty", "EC", "--crv", "P-384"}});
  for (const auto& ca_cert : {ca.pki.root_cert(), ca.pki.intermediate_cert()}) {
    INFO(ca_cert);
    CHECK_THAT(x509_text(ca_cert), Contains("NIST CURVE: P-384"));
  }
  Leaf leaf = issue(ca, "p384.localhost", {});
  check_verifies(ca, leaf);
  CHECK_THAT(leaf.text, Contains("Signature Algorithm: ecdsa-with-SHA384"));
}

}  // namespace
}  // namespace keystep::integration
