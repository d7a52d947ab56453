#include "issuer/crypto/jose/jwe.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/crypto/jose/testdata/vectors.h"

using keystep::Errc;
using keystep::common::base64url_decode;
using keystep::common::base64url_encode;
using keystep::jose::decrypt_pbes2;
using keystep::jose::encrypt_pbes2;
using nlohmann::json;

namespace {

constexpr std::string_view kPassword = "correct horse battery staple";
constexpr int kFast = keystep::jose::kMinPbes2Iterations;  // keeps tests in milliseconds

std::vector<std::string> split(const std::string& compact) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = compact.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(compact.substr(start, dot - start));
  }
  parts.push_back(compact.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ".") + p;
  return out;
}

json header_of(const std::string& compact) {
  auto bytes = base64url_decode(split(compact)[0]);
  REQUIRE(bytes);
  return json::parse(keystep::common::to_string(*bytes));
}

std::string with_header(const std::string& compact, const json& header) {
  auto parts = split(compact);
  parts[0] = base64url_encode(header.dump());
  return join(parts);
}

std::string encrypt(std::string_view plaintext = R"({"kty":"EC"})") {
  auto compact = encrypt_pbes2(plaintext, kPassword, "jwk+json", kFast);
  INFO((compact ? "" : compact.error().message));
  REQUIRE(compact);
  return *compact;
}

void check_error(const keystep::Result<keystep::crypto::SecretBytes>& result, Errc code) {
  REQUIRE_FALSE(result);
  CHECK(result.error().code == code);
  if (code == Errc::permission_denied) CHECK(result.error().message == "wrong password or corrupted key");
}

}  // namespace

TEST_CASE("encrypt_pbes2 output decrypts to the plaintext", "[jose]") {
  for (std::string_view plaintext : {std::string_view(R"({"kty":"EC","d":"secret"})"), std::string_view()}) {
    auto plain = decrypt_pbes2(encrypt(plaintext), kPassword);
    REQUIRE(plain);
    CHECK(plain->view() == plaintext);
  }
}

TEST_CASE("encrypt_pbes2 writes the header step writes", "[jose]") {
  auto compact = encrypt_pbes2("{}", kPassword);  // default p2c: one slow derivation
  REQUIRE(compact);
  json header = header_of(*compact);
  CHECK(header.size() == 5);
  CHECK(header["alg"] == "PBES2-HS256+A128KW");
  CHECK(header["cty"] == "jwk+json");
  CHECK(header["enc"] == "A256GCM");
  CHECK(header["p2c"] == 600000);
  CHECK(base64url_decode(header["p2s"].get<std::string>())->size() == 16);
  auto parts = split(*compact);
  const std::string text = keystep::common::to_string(base64url_decode(parts[0]).value());
  CHECK(text.rfind(R"({"alg":"PBES2-HS256+A128KW","cty":"jwk+json","enc":"A256GCM","p2c":600000,"p2s":")", 0) == 0);
  REQUIRE(parts.size() == 5);
  CHECK(base64url_decode(parts[1])->size() == 40);  // 32-byte CEK wrapped
  CHECK(base64url_decode(parts[2])->size() == 12);
  CHECK(base64url_decode(parts[3])->size() == 2);
  CHECK(base64url_decode(parts[4])->size() == 16);
}

TEST_CASE("encrypt_pbes2 leaves cty out when the content type is empty", "[jose]") {
  auto compact = encrypt_pbes2("x", kPassword, "", kFast);
  REQUIRE(compact);
  CHECK_FALSE(header_of(*compact).contains("cty"));
  CHECK(decrypt_pbes2(*compact, kPassword).value().view() == "x");
}

TEST_CASE("decrypt_pbes2 reports a wrong password as permission_denied", "[jose]") {
  const std::string compact = encrypt();
  check_error(decrypt_pbes2(compact, "wrong password"), Errc::permission_denied);
  check_error(decrypt_pbes2(compact, ""), Errc::permission_denied);
}

TEST_CASE("decrypt_pbes2 rejects a tampered ciphertext, tag, iv, key or header", "[jose]") {
  const std::string compact = encrypt();
  auto flip = [&](std::size_t index) {
    auto parts = split(compact);
    auto bytes = base64url_decode(parts[index]).value();
    bytes[0] ^= 0x01;
    parts[index] = base64url_encode(bytes);
    return join(parts);
  };
  for (std::size_t index : {1, 2, 3, 4}) {
    INFO("part " << index);
    check_error(decrypt_pbes2(flip(index), kPassword), Errc::permission_denied);
  }
  json header = header_of(compact);
  header["cty"] = "jwk+json; tampered";  // the header is authenticated as AAD
  check_error(decrypt_pbes2(with_header(compact, header), kPassword), Errc::permission_denied);
}

TEST_CASE("decrypt_pbes2 rejects p2c outside 1000..10000000 before deriving a key", "[jose]") {
  const std::string compact = encrypt();
  for (const json& p2c : {json(999), json(10'000'001), json(0), json(-600000), json(1e7), json("600000"),
                          json(std::uint64_t{1} << 63), json(nullptr)}) {
    INFO(p2c.dump());
    json header = header_of(compact);
    header["p2c"] = p2c;
    check_error(decrypt_pbes2(with_header(compact, header), kPassword), Errc::invalid_argument);
  }
  json header = header_of(compact);
  header.erase("p2c");
  check_error(decrypt_pbes2(with_header(compact, header), kPassword), Errc::invalid_argument);
}

TEST_CASE("decrypt_pbes2 decrypts JWEs made by Python cryptography", "[jose]") {
  for (const auto& v : keystep::jose::testdata::kJwes) {
    INFO(v.alg << " " << v.enc);
    auto plain = decrypt_pbes2(v.compact, keystep::jose::testdata::kJwePassword);
    INFO((plain ? "" : plain.error().message));
    REQUIRE(plain);
    CHECK(plain->view() == keystep::jose::testdata::kJwePlaintext);
    check_error(decrypt_pbes2(v.compact, kPassword), Errc::permission_denied);
  }
}

TEST_CASE("decrypt_pbes2 reads the A128GCM layout of older step keys", "[jose]") {
  for (const auto& v : keystep::jose::testdata::kJwes) {
    if (v.enc != "A128GCM") continue;
    json header = header_of(std::string(v.compact));
    CHECK(header["alg"] == "PBES2-HS256+A128KW");
    CHECK(header["p2c"] == 100000);
    CHECK_FALSE(header.contains("cty"));
    auto plain = decrypt_pbes2(v.compact, keystep::jose::testdata::kJwePassword);
    REQUIRE(plain);
    auto key = keystep::jose::Jwk::from_json(json::parse(plain->view()));
    REQUIRE(key);
    CHECK(key->has_private());
    return;
  }
  FAIL("no A128GCM vector in testdata/vectors.h");
}

TEST_CASE("decrypt_pbes2 rejects unsupported algorithms, compression and crit", "[jose]") {
  const std::string compact = encrypt();
  for (auto [name, value] : {std::pair<const char*, json>{"alg", "dir"},
                             {"alg", "PBES2-HS256+A256KW"},
                             {"alg", 1},
                             {"enc", "A128CBC-HS256"},
                             {"enc", nullptr},
                             {"zip", "DEF"},
                             {"crit", json::array({"exp"})}}) {
    INFO(name << "=" << value.dump());
    json header = header_of(compact);
    header[name] = value;
    check_error(decrypt_pbes2(with_header(compact, header), kPassword), Errc::invalid_argument);
  }
}

TEST_CASE("decrypt_pbes2 rejects malformed compact input", "[jose]") {
  const std::string compact = encrypt();
  auto parts = split(compact);
  auto replace = [&](std::size_t index, const std::string& value) {
    auto copy = parts;
    copy[index] = value;
    return join(copy);
  };
  json short_salt = header_of(compact);
  short_salt["p2s"] = base64url_encode(std::string(7, 's'));
  for (const std::string& bad : {
           std::string(), compact.substr(0, compact.rfind('.')), compact + ".AAAA",
           replace(0, "!!"), replace(0, base64url_encode("[]")), replace(1, "a+b/"),
           replace(1, base64url_encode(std::string(24, 'k'))),   // A256GCM needs a 40-byte wrapped key
           replace(2, base64url_encode(std::string(16, 'i'))),   // iv must be 12 bytes
           replace(4, base64url_encode(std::string(12, 't'))),   // tag must be 16 bytes
           with_header(compact, short_salt),
           std::string(keystep::jose::kMaxJweBytes + 1, 'A'),
       }) {
    INFO(bad.substr(0, 80));
    check_error(decrypt_pbes2(bad, kPassword), Errc::invalid_argument);
  }
}

TEST_CASE("encrypt_pbes2 rejects iterations out of bounds and an empty password", "[jose]") {
  for (int iterations : {0, 999, 10'000'001, -1}) {
    auto compact = encrypt_pbes2("x", kPassword, "jwk+json", iterations);
    REQUIRE_FALSE(compact);
    CHECK(compact.error().code == Errc::invalid_argument);
  }
  auto empty = encrypt_pbes2("x", "", "jwk+json", kFast);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == Errc::invalid_argument);
}

TEST_CASE("an encrypted provisioner key decrypts to a JWK that signs verifiable tokens", "[jose]") {
  auto key = keystep::jose::Jwk::generate("EC", 0, "P-256");
  REQUIRE(key);
  auto compact = encrypt_pbes2(key->private_json().value().dump(), kPassword, "jwk+json", kFast);
  REQUIRE(compact);
  auto plain = decrypt_pbes2(*compact, kPassword);
  REQUIRE(plain);
  auto decrypted = keystep::jose::Jwk::from_json(json::parse(plain->view()));
  REQUIRE(decrypted);
  auto token = keystep::jose::sign_compact({{"alg", decrypted->alg()}, {"kid", decrypted->kid()}, {"typ", "JWT"}},
                                           R"({"sub":"foo"})", *decrypted);
  REQUIRE(token);
  auto jws = keystep::jose::parse_compact(*token);
  REQUIRE(jws);
  CHECK(keystep::jose::verify(*jws, key->public_only().value()));
}
