#include "issuer/crypto/jose/jws.h"

#include <catch2/catch.hpp>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/testdata/vectors.h"
#include "issuer/crypto/openssl_ptr.h"

using keystep::Errc;
using keystep::common::base64url_decode;
using keystep::common::base64url_encode;
using keystep::common::Bytes;
using keystep::jose::Jwk;
using keystep::jose::parse_compact;
using keystep::jose::payload_json;
using keystep::jose::sign_compact;
using keystep::jose::verify;
using nlohmann::json;

namespace {

const json kPayload = {{"iss", "admin@example.com"}, {"sub", "foo.example.com"}, {"aud", "https://ca/1.0/sign"}};

Jwk must(keystep::Result<Jwk> jwk) {
  INFO((jwk ? "" : jwk.error().message));
  REQUIRE(jwk);
  return std::move(*jwk);
}

Jwk rsa_key() {
  for (const auto& v : keystep::jose::testdata::kTokens) {
    if (v.alg == "RS256") return must(Jwk::from_json(json::parse(v.jwk)));
  }
  FAIL("no RSA fixture");
  throw std::logic_error("unreachable");
}

Jwk key_for(std::string_view alg) {
  if (alg == "ES256") return must(Jwk::generate("EC", 0, "P-256"));
  if (alg == "ES384") return must(Jwk::generate("EC", 0, "P-384"));
  if (alg == "ES512") return must(Jwk::generate("EC", 0, "P-521"));
  if (alg == "EdDSA") return must(Jwk::generate("OKP", 0, "Ed25519"));
  return rsa_key();
}

std::string sign(const Jwk& key, std::string_view alg, const std::string& payload = kPayload.dump()) {
  auto token = sign_compact({{"alg", alg}, {"kid", key.kid()}, {"typ", "JWT"}}, payload, key);
  INFO((token ? "" : token.error().message));
  REQUIRE(token);
  return *token;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

std::string join(const std::string& header, const std::string& payload, const Bytes& signature) {
  return base64url_encode(header) + '.' + base64url_encode(payload) + '.' + base64url_encode(signature);
}

// verify_token parses and verifies; the error code of whichever step failed.
keystep::Status verify_token(const std::string& token, const Jwk& key) {
  auto jws = parse_compact(token);
  if (!jws) return tl::unexpected(jws.error());
  return verify(*jws, key);
}

template <class T>
void check_unauthenticated(const keystep::Result<T>& status, std::string_view message = "") {
  REQUIRE_FALSE(status);
  CHECK(status.error().code == Errc::unauthenticated);
  if (!message.empty()) CHECK(status.error().message == message);
}

// der_sign signs with plain EVP calls and returns OpenSSL's DER ECDSA form.
Bytes der_sign(EVP_PKEY* key, const std::string& input) {
  keystep::crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1);
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) == 1);
  Bytes der(len);
  REQUIRE(EVP_DigestSign(ctx.get(), der.data(), &len, data, input.size()) == 1);
  der.resize(len);
  return der;
}

}  // namespace

TEST_CASE("sign_compact and verify round-trip for every supported algorithm", "[jose]") {
  std::string_view alg =
      GENERATE("ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512");
  INFO(alg);
  Jwk key = key_for(alg);
  Jwk pub = must(key.public_only());
  std::string token = sign(key, alg);
  auto jws = parse_compact(token);
  REQUIRE(jws);
  CHECK(jws->alg() == alg);
  CHECK(jws->kid() == key.kid());
  CHECK(verify(*jws, pub));
  CHECK(payload_json(*jws).value() == kPayload);
  if (key.coordinate_size() != 0) CHECK(jws->signature.size() == 2 * key.coordinate_size());
}

TEST_CASE("sign_compact writes the header with sorted keys and no whitespace, as step does", "[jose]") {
  Jwk key = key_for("ES256");
  auto token = sign_compact({{"typ", "JWT"}, {"kid", "abc"}, {"alg", "ES256"}}, "{}", key);
  REQUIRE(token);
  auto header = base64url_decode(split(*token)[0]);
  REQUIRE(header);
  CHECK(keystep::common::to_string(*header) == R"({"alg":"ES256","kid":"abc","typ":"JWT"})");
  CHECK(split(*token)[1] == "e30");
}

TEST_CASE("sign_compact refuses a public key, a mismatched alg and a header without alg", "[jose]") {
  Jwk key = key_for("ES256");
  auto no_private = sign_compact({{"alg", "ES256"}}, "{}", must(key.public_only()));
  REQUIRE_FALSE(no_private);
  CHECK(no_private.error().code == Errc::failed_precondition);
  for (const json& header : {json{{"alg", "ES384"}}, json{{"alg", "HS256"}}, json{{"typ", "JWT"}}, json::array()}) {
    INFO(header.dump());
    auto token = sign_compact(header, "{}", key);
    REQUIRE_FALSE(token);
    CHECK(token.error().code == Errc::invalid_argument);
  }
}

TEST_CASE("verify rejects a tampered payload", "[jose]") {
  std::string_view alg = GENERATE("ES256", "EdDSA", "RS256", "PS256");
  Jwk key = key_for(alg);
  auto parts = split(sign(key, alg));
  json evil = kPayload;
  evil["sub"] = "evil.example.com";
  std::string token = parts[0] + '.' + base64url_encode(evil.dump()) + '.' + parts[2];
  check_unauthenticated(verify_token(token, key), "token signature does not verify");
}

TEST_CASE("verify rejects a tampered signature", "[jose]") {
  std::string_view alg = GENERATE("ES256", "ES512", "EdDSA", "RS256", "PS256");
  Jwk key = key_for(alg);
  auto jws = parse_compact(sign(key, alg));
  REQUIRE(jws);
  jws->signature[jws->signature.size() / 2] ^= 0x01;
  check_unauthenticated(verify(*jws, key), "token signature does not verify");
}

TEST_CASE("verify rejects a token signed by another key of the same type", "[jose]") {
  Jwk signer = key_for("ES256");
  Jwk other = key_for("ES256");
  check_unauthenticated(verify_token(sign(signer, "ES256"), other), "token signature does not verify");
}

TEST_CASE("verify rejects an algorithm that does not match the key", "[jose]") {
  Jwk p256 = key_for("ES256");
  Jwk rsa = rsa_key();
  Jwk ed = key_for("EdDSA");
  const std::string payload = kPayload.dump();

  // ES384 header over a P-256 signature.
  auto es256 = parse_compact(sign(p256, "ES256"));
  REQUIRE(es256);
  std::string es384 = join(R"({"alg":"ES384","typ":"JWT"})", payload, es256->signature);
  check_unauthenticated(verify_token(es384, p256), "token algorithm \"ES384\" does not match key");

  // HS256 keyed with the public key: the classic confusion attack.
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string input = base64url_encode(header) + '.' + base64url_encode(payload);
  const std::string secret = rsa.public_json().dump();
  Bytes mac(EVP_MAX_MD_SIZE);
  unsigned int mac_len = 0;
  REQUIRE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &mac_len) != nullptr);
  mac.resize(mac_len);
  check_unauthenticated(verify_token(join(header, payload, mac), rsa), "token algorithm \"HS256\" does not match key");

  check_unauthenticated(verify_token(sign(rsa, "RS256"), p256), "token algorithm \"RS256\" does not match key");
  check_unauthenticated(verify_token(sign(p256, "ES256"), rsa), "token algorithm \"ES256\" does not match key");
  check_unauthenticated(verify_token(sign(ed, "EdDSA"), p256), "token algorithm \"EdDSA\" does not match key");
  check_unauthenticated(verify_token(sign(rsa, "PS256"), ed), "token algorithm \"PS256\" does not match key");
}

TEST_CASE("parse_compact rejects alg none in any spelling", "[jose]") {
  for (std::string_view alg : {"none", "None", "NONE", "nOnE"}) {
    INFO(alg);
    std::string token = base64url_encode(R"({"alg":")" + std::string(alg) + R"("})") + '.' +
                        base64url_encode(kPayload.dump()) + '.';
    check_unauthenticated(parse_compact(token));
    token += "AAAA";  // a signature does not make it acceptable
    check_unauthenticated(parse_compact(token), "token algorithm \"none\" is not allowed");
  }
}

TEST_CASE("parse_compact rejects critical header parameters", "[jose]") {
  Jwk key = key_for("ES256");
  auto token = sign_compact({{"alg", "ES256"}, {"b64", false}, {"crit", {"b64"}}}, "{}", key);
  REQUIRE(token);
  check_unauthenticated(parse_compact(*token));
}

TEST_CASE("verify rejects a DER-encoded ECDSA signature", "[jose]") {
  Jwk key = key_for("ES256");
  const std::string header = R"({"alg":"ES256","typ":"JWT"})";
  const std::string payload = kPayload.dump();
  Bytes der = der_sign(key.pkey(), base64url_encode(header) + '.' + base64url_encode(payload));
  check_unauthenticated(verify_token(join(header, payload, der), key), "token signature does not verify");
}

TEST_CASE("verify rejects an ECDSA signature of the wrong length", "[jose]") {
  Jwk key = key_for("ES256");
  auto jws = parse_compact(sign(key, "ES256"));
  REQUIRE(jws);
  Bytes exact = jws->signature;
  jws->signature.push_back(0);
  check_unauthenticated(verify(*jws, key));
  jws->signature = exact;
  jws->signature.insert(jws->signature.begin(), 0);
  jws->signature.pop_back();
  check_unauthenticated(verify(*jws, key));
  jws->signature = Bytes(exact.begin(), exact.end() - 1);
  check_unauthenticated(verify(*jws, key));
}

TEST_CASE("parse_compact rejects tokens without exactly three parts", "[jose]") {
  Jwk key = key_for("ES256");
  const std::string token = sign(key, "ES256");
  auto parts = split(token);
  for (const std::string& bad : {std::string(), parts[0], parts[0] + '.' + parts[1], token + '.', token + ".e30",
                                 parts[0] + '.' + parts[1] + '.' + parts[2] + '.' + parts[1] + '.' + parts[2]}) {
    INFO(bad);
    check_unauthenticated(parse_compact(bad));
  }
}

TEST_CASE("parse_compact rejects tokens over 64 KiB", "[jose]") {
  Jwk key = key_for("EdDSA");
  json payload = kPayload;
  payload["pad"] = std::string(48 * 1024, 'a');  // base64url makes it 64 KiB plus
  std::string token = sign(key, "EdDSA", payload.dump());
  REQUIRE(token.size() > keystep::jose::kMaxTokenBytes);
  check_unauthenticated(parse_compact(token), "token larger than 64 KiB");

  payload["pad"] = std::string(47 * 1024, 'a');
  token = sign(key, "EdDSA", payload.dump());
  REQUIRE(token.size() <= keystep::jose::kMaxTokenBytes);
  CHECK(verify_token(token, key));
}

TEST_CASE("parse_compact rejects a header that is not a JSON object with a string alg", "[jose]") {
  const std::string rest = '.' + base64url_encode(kPayload.dump()) + ".AAAA";
  for (const std::string& header : {base64url_encode("[]"), base64url_encode(R"({"alg":1})"), base64url_encode("{"),
                                    base64url_encode(R"({"typ":"JWT"})"), std::string("e30="), std::string("!!")}) {
    INFO(header);
    check_unauthenticated(parse_compact(header + rest));
  }
  const std::string good_header = base64url_encode(R"({"alg":"ES256"})");
  check_unauthenticated(parse_compact(good_header + ".a+b/.AAAA"));  // payload not base64url
  check_unauthenticated(parse_compact(good_header + rest.substr(0, rest.size() - 4)));  // unsigned
}

TEST_CASE("tokens signed by Python cryptography verify", "[jose]") {
  const json payload = json::parse(keystep::jose::testdata::kTokenPayload);
  for (const auto& v : keystep::jose::testdata::kTokens) {
    INFO(v.alg);
    Jwk key = must(must(Jwk::from_json(json::parse(v.jwk))).public_only());
    auto jws = parse_compact(v.token);
    REQUIRE(jws);
    CHECK(jws->alg() == v.alg);
    CHECK(jws->kid() == v.thumbprint);
    auto status = verify(*jws, key);
    INFO((status ? "" : status.error().message));
    CHECK(status);
    CHECK(payload_json(*jws).value() == payload);
  }
}

TEST_CASE("an ES256 JWT signed with raw OpenSSL calls verifies", "[jose]") {
  keystep::crypto::EvpPkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  REQUIRE(pkey);
  const std::string header = R"({"alg":"ES256","typ":"JWT"})";
  const std::string payload = kPayload.dump();
  Bytes der = der_sign(pkey.get(), base64url_encode(header) + '.' + base64url_encode(payload));
  const unsigned char* p = der.data();
  keystep::crypto::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(sig);
  Bytes raw(64);
  REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), 32) == 32);
  REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + 32, 32) == 32);
  Jwk key = must(must(Jwk::from_pkey(pkey.get())).public_only());
  CHECK(verify_token(join(header, payload, raw), key));
}

TEST_CASE("payload_json requires a JSON object", "[jose]") {
  Jwk key = key_for("EdDSA");
  for (const std::string& payload : {std::string("[1,2]"), std::string("not json"), std::string("\"s\"")}) {
    INFO(payload);
    auto jws = parse_compact(sign(key, "EdDSA", payload));
    REQUIRE(jws);
    REQUIRE(verify(*jws, key));
    auto claims = payload_json(*jws);
    REQUIRE_FALSE(claims);
    CHECK(claims.error().code == Errc::unauthenticated);
  }
}
