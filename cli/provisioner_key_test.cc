#include "cli/provisioner_key.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/testing_temp_dir.h"
#include "issuer/common/file.h"
#include "issuer/crypto/jose/jwe.h"

using namespace keystep;
using namespace keystep::cli;
using nlohmann::json;

namespace {

const crypto::SecretBytes kPassword("correct horse battery staple");

struct Fixture {
  testing::TempDir dir;
  jose::Jwk key = *jose::Jwk::generate("EC", 0, "P-256");

  std::string compact_jwe() const {
    auto jwe = jose::encrypt_pbes2(key.private_json()->dump(), kPassword.view(), "jwk+json",
                                   jose::kMinPbes2Iterations);  // fast: tests run in milliseconds
    REQUIRE(jwe);
    return *jwe;
  }

  std::string write(const std::string& name, const std::string& content) const {
    REQUIRE(common::write_file_atomic(dir.file(name), content,
                                      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    return dir.file(name);
  }
};

json json_serialization(const std::string& compact) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = compact.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(compact.substr(start, dot - start));
  }
  parts.push_back(compact.substr(start));
  REQUIRE(parts.size() == 5);
  return {{"protected", parts[0]},
          {"encrypted_key", parts[1]},
          {"iv", parts[2]},
          {"ciphertext", parts[3]},
          {"tag", parts[4]}};
}

}  // namespace

TEST_CASE("load_provisioner_key decrypts a compact JWE, as keystep init writes it", "[cli]") {
  Fixture f;
  auto path = f.write("admin.jwk", f.compact_jwe() + "\n");
  auto key = load_provisioner_key(path, &kPassword);
  REQUIRE(key);
  CHECK(key->has_private());
  CHECK(key->thumbprint() == f.key.thumbprint());
  CHECK(key->kid() == f.key.kid());
  CHECK(key->alg() == "ES256");
}

TEST_CASE("load_provisioner_key decrypts a JSON-serialized JWE, as step crypto jwk create writes it", "[cli]") {
  Fixture f;
  auto path = f.write("admin.key", json_serialization(f.compact_jwe()).dump(2));
  auto key = load_provisioner_key(path, &kPassword);
  REQUIRE(key);
  CHECK(key->thumbprint() == f.key.thumbprint());
}

TEST_CASE("load_provisioner_key reads a plain private JWK without a password", "[cli]") {
  Fixture f;
  auto path = f.write("admin.json", f.key.private_json()->dump(2));
  auto key = load_provisioner_key(path, nullptr);
  REQUIRE(key);
  CHECK(key->has_private());
  CHECK(key->thumbprint() == f.key.thumbprint());
  CHECK(load_provisioner_key(path, &kPassword));  // a password for a plain key does no harm
}

TEST_CASE("load_provisioner_key asks for --password-file when the key is encrypted", "[cli]") {
  Fixture f;
  for (const auto& content : {f.compact_jwe(), json_serialization(f.compact_jwe()).dump()}) {
    auto path = f.write("admin.jwk", content);
    auto key = load_provisioner_key(path, nullptr);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == Errc::failed_precondition);
    CHECK(key.error().message == "provisioner key " + path + " is encrypted: give --password-file");
  }
}

TEST_CASE("load_provisioner_key rejects a wrong password", "[cli]") {
  Fixture f;
  auto path = f.write("admin.jwk", f.compact_jwe());
  const crypto::SecretBytes wrong("Tr0ub4dor&3");
  auto key = load_provisioner_key(path, &wrong);
  REQUIRE_FALSE(key);
  CHECK(key.error().code == Errc::permission_denied);
  CHECK(key.error().message == "cannot decrypt provisioner key " + path + ": wrong password or corrupted key");
}

TEST_CASE("load_provisioner_key rejects a public key, garbage and JWE members it cannot carry", "[cli]") {
  Fixture f;
  auto public_only = load_provisioner_key(f.write("pub.json", f.key.public_json().dump()), nullptr);
  REQUIRE_FALSE(public_only);
  CHECK(public_only.error().message.find("is a public key") != std::string::npos);

  for (const std::string garbage : {"", "not a key", "{\"kty\":", "[1,2]", "a.b.c"}) {
    auto key = load_provisioner_key(f.write("garbage", garbage), &kPassword);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == Errc::invalid_argument);
  }

  auto with_aad = json_serialization(f.compact_jwe());
  with_aad["aad"] = "eA";
  auto aad = load_provisioner_key(f.write("aad.json", with_aad.dump()), &kPassword);
  REQUIRE_FALSE(aad);
  CHECK(aad.error().message.find("\"aad\" is not supported") != std::string::npos);

  auto missing_tag = json_serialization(f.compact_jwe());
  missing_tag.erase("tag");
  auto tagless = load_provisioner_key(f.write("tagless.json", missing_tag.dump()), &kPassword);
  REQUIRE_FALSE(tagless);
  CHECK(tagless.error().message.find("\"tag\" is missing") != std::string::npos);
}

TEST_CASE("load_provisioner_key names a missing file", "[cli]") {
  testing::TempDir dir;
  auto key = load_provisioner_key(dir.file("absent.jwk"), &kPassword);
  REQUIRE_FALSE(key);
  CHECK(key.error().message.find("absent.jwk") != std::string::npos);
}
