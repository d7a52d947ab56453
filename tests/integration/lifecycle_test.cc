// Revocation and renewal over the wire: POST /revoke (token or mTLS), the
// CRL and OCSP answers that follow on the HTTPS and plain-HTTP listeners,
// with openssl as the independent verifier, and POST /renew (mTLS with
// curl, or a Bearer x5cInsecure token).

#include <openssl/rand.h>

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/jose/jws.h"
#include "issuer/crypto/key.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/openssl_cli.h"
#include "tests/integration/token_minter.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// LifecycleCa is a CA with a plain-HTTP listener and two issued leaves.
struct LifecycleCa {
  LifecycleCa()
      : pki(prepared()), server(serve_options(pki)), http(server, pki),
        minter(TokenMinter::load(pki.provisioner_key(), "admin")),
        a(get_certificate(pki, server, tmp.path(), "a.localhost")),
        b(get_certificate(pki, server, tmp.path(), "b.localhost")) {}

  Pki prepared() {
    Pki p = init_pki(tmp, "ca", {.password = false});
    std::ofstream(p.config(), std::ios::app) << "insecureAddress: 127.0.0.1:0\n";
    return p;
  }

  [[nodiscard]] std::string serial_of(const fs::path& crt) const {
    return crypto::Certificate::from_pem(read_text(crt))->serial_decimal();
  }
  [[nodiscard]] unsigned short plain_port() const {
    const std::string log = server.log();
    const std::string marker = "plain http listening address=127.0.0.1:";
    auto at = log.find(marker);
    if (at == std::string::npos) throw HarnessError("no plain listener in the log:\n" + log);
    return static_cast<unsigned short>(std::stoi(log.substr(at + marker.size())));
  }
  [[nodiscard]] http::ClientResponse revoke(const std::string& serial, const std::string& ott, int reason = 1,
                                            bool passive = true) const {
    nlohmann::json body = {{"serial", serial}, {"ott", ott}, {"reasonCode", reason}, {"passive", passive}};
    return http.post("/1.0/revoke", body.dump(), {{"Content-Type", "application/json"}});
  }
  [[nodiscard]] std::string revoke_token(const std::string& serial) const {
    auto claims = minter.claims(serial, server.url() + "/1.0/revoke");
    claims.erase("sans");
    return minter.sign(claims);
  }
  // curl runs curl against the HTTPS listener with the root, plus args.
  [[nodiscard]] RunResult curl(const std::string& path, std::vector<std::string> args) const {
    std::vector<std::string> argv{"curl", "-sS", "--cacert", pki.root_cert().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(server.url() + path);
    return run(argv);
  }
  // ocsp asks the plain listener about crt with openssl and returns its output.
  [[nodiscard]] RunResult ocsp(const fs::path& crt) const {
    return run({"openssl", "ocsp", "-issuer", pki.intermediate_cert().string(), "-cert", crt.string(), "-url",
                "http://127.0.0.1:" + std::to_string(plain_port()) + "/ocsp", "-CAfile", pki.root_cert().string(),
                "-verify_other", pki.intermediate_cert().string()});
  }

  TempDir tmp;
  Pki pki;
  ServerProcess server;
  CaHttp http;
  TokenMinter minter;
  fs::path a, b;
};

TEST_CASE("a token-authorized revoke shows in the CRL and in OCSP on both listeners", "[lifecycle]") {
  LifecycleCa ca;
  const std::string serial = ca.serial_of(ca.a);
  auto r = ca.revoke(serial, ca.revoke_token(serial), 1);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(nlohmann::json::parse(r.body) == nlohmann::json{{"status", "ok"}});

  // CRL over plain HTTP, verified by openssl against the chain.
  const fs::path crl = ca.tmp / "crl.der";
  auto fetched = run({"curl", "-sS", "--fail", "-o", crl.string(),
                      "http://127.0.0.1:" + std::to_string(ca.plain_port()) + "/1.0/crl"});
  INFO(fetched.describe());
  REQUIRE(fetched.exit_code == 0);
  const fs::path chain = ca.tmp / "chain.pem";
  write_text(chain, read_text(ca.pki.intermediate_cert()) + read_text(ca.pki.root_cert()));
  auto text = run({"openssl", "crl", "-in", crl.string(), "-inform", "DER", "-CAfile", chain.string(), "-noout", "-text"});
  INFO(text.describe());
  CHECK_THAT(text.err + text.out, Contains("verify OK"));
  auto hex = run({"openssl", "x509", "-in", ca.a.string(), "-noout", "-serial"});
  CHECK_THAT(text.out, Contains(hex.out.substr(hex.out.find('=') + 1, 20)));
  CHECK_THAT(text.out, Contains("Key Compromise"));

  // The same CRL as PEM over HTTPS.
  auto pem = ca.http.get("/crl?pem");
  CHECK(pem.status == 200);
  CHECK_THAT(pem.body, Contains("-----BEGIN X509 CRL-----"));
  CHECK_THAT(pem.header("Expires"), Contains("GMT"));

  // OCSP: revoked for a, good for b, signature verified by openssl.
  auto revoked = ca.ocsp(ca.a);
  INFO(revoked.describe());
  CHECK_THAT(revoked.out + revoked.err, Contains("Response verify OK"));
  CHECK_THAT(revoked.out, Contains(": revoked") && Contains("keyCompromise"));
  auto good = ca.ocsp(ca.b);
  CHECK_THAT(good.out, Contains(": good"));
}

TEST_CASE("revoke refuses what step-ca refuses and changes nothing", "[lifecycle]") {
  LifecycleCa ca;
  const std::string a = ca.serial_of(ca.a), b = ca.serial_of(ca.b);
  auto other = ca.revoke(a, ca.revoke_token(b));
  CHECK(other.status == 403);
  CHECK_THAT(other.body, Contains("do not match"));
  CHECK(ca.revoke(a, ca.revoke_token(a), 15).status == 400);
  CHECK(ca.revoke(a, ca.revoke_token(a), 7).status == 400);
  CHECK(ca.revoke(a, ca.revoke_token(a), 1, false).status == 501);
  auto nothing = ca.revoke(a, "");
  CHECK(nothing.status == 400);
  CHECK_THAT(nothing.body, Contains("missing ott or client certificate"));
  auto garbage = ca.revoke("12ab", ca.revoke_token("12ab"));
  CHECK(garbage.status == 400);
  CHECK_THAT(garbage.body, Contains("not a valid serial number"));
  auto unknown = ca.revoke("12345", ca.revoke_token("12345"));
  CHECK(unknown.status == 404);
  CHECK_THAT(unknown.body, Contains("was issued by this CA"));
  // The same serial in hex is the same certificate.
  crypto::BignumPtr bn(nullptr);
  BIGNUM* raw = nullptr;
  BN_dec2bn(&raw, a.c_str());
  bn.reset(raw);
  crypto::OpensslStringPtr hex(BN_bn2hex(bn.get()));
  auto hex_other = ca.revoke("0x" + std::string(hex.get()), ca.revoke_token(b));
  CHECK(hex_other.status == 403);
  // None of the above revoked anything.
  CHECK_THAT(ca.ocsp(ca.a).out, Contains(": good"));
  REQUIRE(ca.revoke(a, ca.revoke_token(a)).status == 200);
  auto twice = ca.revoke(a, ca.revoke_token(a));
  CHECK(twice.status == 400);
  CHECK_THAT(twice.body, Contains("already revoked"));
  // A token is single use for revoke too.
  const std::string token = ca.revoke_token(b);
  REQUIRE(ca.revoke(b, token).status == 200);
  auto replay = ca.revoke(b, token);
  CHECK(replay.status == 401);
}

TEST_CASE("a certificate revokes itself over mTLS but not another one", "[lifecycle]") {
  LifecycleCa ca;
  const std::string a = ca.serial_of(ca.a), b = ca.serial_of(ca.b);
  auto key_a = ca.a.parent_path() / "a.localhost.key";
  nlohmann::json other = {{"serial", b}, {"reasonCode", 4}, {"passive", true}};
  auto refused = ca.curl("/1.0/revoke", {"--cert", ca.a.string(), "--key", key_a.string(), "-d", other.dump()});
  CHECK_THAT(refused.out, Contains("403"));
  nlohmann::json self = {{"serial", a}, {"reasonCode", 4}, {"passive", true}};
  auto done = ca.curl("/1.0/revoke", {"--cert", ca.a.string(), "--key", key_a.string(), "-d", self.dump()});
  INFO(done.describe());
  CHECK(done.out == "{\"status\":\"ok\"}\n");
  CHECK_THAT(ca.ocsp(ca.a).out, Contains(": revoked"));
  CHECK_THAT(ca.ocsp(ca.b).out, Contains(": good"));
}

TEST_CASE("renew over mTLS issues the same names and key with a new serial; a revoked certificate cannot renew",
          "[lifecycle]") {
  LifecycleCa ca;
  auto key_b = ca.b.parent_path() / "b.localhost.key";
  auto renewed = ca.curl("/1.0/renew", {"-X", "POST", "--cert", ca.b.string(), "--key", key_b.string()});
  INFO(renewed.describe());
  auto body = nlohmann::json::parse(renewed.out);
  REQUIRE(body.contains("crt"));
  auto fresh = crypto::Certificate::from_pem(body["crt"].get<std::string>());
  auto old = crypto::Certificate::from_pem(read_text(ca.b));
  REQUIRE(fresh);
  CHECK(fresh->serial_decimal() != old->serial_decimal());
  CHECK(fresh->common_name() == "b.localhost");
  CHECK(fresh->subject_alt_names().dns == old->subject_alt_names().dns);
  CHECK(crypto::same_public_key(fresh->public_key(), old->public_key()));
  CHECK(fresh->not_after() - fresh->not_before() == old->not_after() - old->not_before());
  const fs::path renewed_crt = ca.tmp / "renewed.crt";
  write_text(renewed_crt, body["crt"].get<std::string>());
  CHECK(verify_chain(ca.pki.root_cert(), ca.pki.intermediate_cert(), renewed_crt).exit_code == 0);

  const std::string a = ca.serial_of(ca.a);
  REQUIRE(ca.revoke(a, ca.revoke_token(a)).status == 200);
  auto key_a = ca.a.parent_path() / "a.localhost.key";
  auto refused = ca.curl("/1.0/renew", {"-X", "POST", "--cert", ca.a.string(), "--key", key_a.string()});
  CHECK_THAT(refused.out, Contains("\"status\":401") && Contains("revoked"));
  auto no_cert = ca.http.post("/1.0/renew", "");
  CHECK(no_cert.status == 400);
  CHECK_THAT(no_cert.body, Contains("missing client certificate"));
}

// renew_token is the x5cInsecure token `step ca renew --mtls=false` sends.
std::string renew_token(const LifecycleCa& ca, const fs::path& crt, const fs::path& key, const std::string& aud) {
  auto cert = crypto::Certificate::from_pem(read_text(crt));
  auto pkey = crypto::private_key_from_pem(read_text(key));
  auto jwk = jose::Jwk::from_pkey(pkey->get());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  unsigned char jti[32];
  RAND_bytes(jti, sizeof jti);
  nlohmann::json header = {{"alg", jwk->alg()}, {"kid", jwk->thumbprint()}, {"typ", "JWT"},
                           {"x5cInsecure", {common::base64_encode(cert->der())}}};
  nlohmann::json claims = {{"aud", aud}, {"iss", "step-ca-client/1.0"}, {"sub", cert->common_name()},
                           {"iat", now}, {"nbf", now}, {"exp", now + 300},
                           {"jti", common::hex_encode(jti, sizeof jti)}};
  (void)ca;
  return *jose::sign_compact(header, claims.dump(), *jwk);
}

TEST_CASE("renew with a Bearer x5cInsecure token works once, and only for this CA's audience", "[lifecycle]") {
  LifecycleCa ca;
  auto key_b = ca.b.parent_path() / "b.localhost.key";
  const std::string token = renew_token(ca, ca.b, key_b, ca.server.url() + "/1.0/renew");
  auto renewed = ca.http.post("/1.0/renew", "", {{"Authorization", "Bearer " + token}});
  INFO(renewed.body);
  CHECK(renewed.status == 201);
  auto replay = ca.http.post("/1.0/renew", "", {{"Authorization", "Bearer " + token}});
  CHECK(replay.status == 401);
  CHECK_THAT(replay.body, Contains("token already used"));
  auto wrong_aud = renew_token(ca, ca.b, key_b, "https://elsewhere.example/1.0/renew");
  CHECK(ca.http.post("/1.0/renew", "", {{"Authorization", "Bearer " + wrong_aud}}).status == 401);
  // A token signed with another key than the certificate's is refused.
  auto key_a = ca.a.parent_path() / "a.localhost.key";
  auto forged = renew_token(ca, ca.b, key_a, ca.server.url() + "/1.0/renew");
  CHECK(ca.http.post("/1.0/renew", "", {{"Authorization", "Bearer " + forged}}).status == 401);
}

TEST_CASE("renew refuses a certificate from another CA presented in a Bearer token", "[lifecycle]") {
  LifecycleCa ca;
  LifecycleCa other;
  auto key = other.b.parent_path() / "b.localhost.key";
  const std::string token = renew_token(other, other.b, key, ca.server.url() + "/1.0/renew");
  auto refused = ca.http.post("/1.0/renew", "", {{"Authorization", "Bearer " + token}});
  CHECK(refused.status == 401);
  CHECK_THAT(refused.body, Contains("error validating renew token"));
  CHECK(ca.server.count("certificate renewed") == 0);
}

TEST_CASE("the plain-HTTP listener serves roots, intermediates, CRL and OCSP but never issues", "[lifecycle]") {
  LifecycleCa ca;
  const std::string base = "http://127.0.0.1:" + std::to_string(ca.plain_port());
  http::ClientOptions plain;
  auto roots = http::request(plain, "GET", base + "/roots.pem");
  REQUIRE(roots);
  CHECK(roots->status == 200);
  CHECK(roots->body == read_text(ca.pki.root_cert()));
  auto intermediates = http::request(plain, "GET", base + "/intermediates.pem");  // aia.caIssuers
  REQUIRE(intermediates);
  CHECK(intermediates->status == 200);
  CHECK(intermediates->body == read_text(ca.pki.intermediate_cert()));
  auto provisioners = http::request(plain, "GET", base + "/provisioners");  // encrypted keys: HTTPS only
  REQUIRE(provisioners);
  CHECK(provisioners->status == 404);
  auto sign = http::request(plain, "POST", base + "/1.0/sign", "{}");
  REQUIRE(sign);
  CHECK(sign->status == 404);
  auto malformed = http::request(plain, "POST", base + "/ocsp", "not an ocsp request",
                                 {{"Content-Type", "application/ocsp-request"}});
  REQUIRE(malformed);
  CHECK(malformed->status == 200);
  CHECK(malformed->body == std::string("\x30\x03\x0a\x01\x01", 5));  // OCSPResponse malformedRequest
}

}  // namespace
}  // namespace keystep::integration

namespace keystep::integration {
namespace {

TEST_CASE("leaves carry the configured CRL distribution point and AIA, and openssl checks them against the CRL",
          "[lifecycle]") {
  TempDir tmp;
  Pki pki = init_pki(tmp, "ca", {.password = false});
  std::ofstream(pki.config(), std::ios::app)
      << "crl: {idpURL: \"http://ca.localhost/1.0/crl\"}\n"
      << "aia: {ocsp: \"http://ca.localhost/ocsp\", caIssuers: \"http://ca.localhost/intermediates.pem\"}\n";
  ServerProcess server(serve_options(pki));
  CaHttp http(server, pki);
  auto good = get_certificate(pki, server, tmp.path(), "good.localhost");
  auto bad = get_certificate(pki, server, tmp.path(), "bad.localhost");
  auto text = run({"openssl", "x509", "-in", good.string(), "-noout", "-text"});
  CHECK_THAT(text.out, Contains("X509v3 CRL Distribution Points") && Contains("URI:http://ca.localhost/1.0/crl"));
  CHECK_THAT(text.out, Contains("OCSP - URI:http://ca.localhost/ocsp"));
  CHECK_THAT(text.out, Contains("CA Issuers - URI:http://ca.localhost/intermediates.pem"));

  TokenMinter minter = TokenMinter::load(pki.provisioner_key(), "admin");
  const std::string serial = crypto::Certificate::from_pem(read_text(bad))->serial_decimal();
  auto claims = minter.claims(serial, server.url() + "/1.0/revoke");
  claims.erase("sans");
  nlohmann::json body = {{"serial", serial}, {"ott", minter.sign(claims)}, {"reasonCode", 1}, {"passive", true}};
  REQUIRE(http.post("/1.0/revoke", body.dump(), {{"Content-Type", "application/json"}}).status == 200);
  auto crl = http.get("/1.0/crl?pem");
  REQUIRE(crl.status == 200);
  const fs::path crl_pem = tmp / "crl.pem";
  write_text(crl_pem, crl.body);
  auto verify = [&](const fs::path& leaf) {
    return run({"openssl", "verify", "-crl_check", "-CRLfile", crl_pem.string(), "-CAfile", pki.root_cert().string(),
                "-untrusted", pki.intermediate_cert().string(), leaf.string()});
  };
  auto ok = verify(good);
  INFO(ok.describe());
  CHECK(ok.exit_code == 0);
  auto revoked = verify(bad);
  INFO(revoked.describe());
  CHECK(revoked.exit_code != 0);
  CHECK_THAT(revoked.out + revoked.err, Contains("certificate revoked"));
}

}  // namespace
}  // namespace keystep::integration
