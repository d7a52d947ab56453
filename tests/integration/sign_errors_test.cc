// POST /1.0/sign against bad input: every refusal has the documented status
// (reference §4.1, §2.3, §5, §6), a message that names the problem, and
// issues nothing - the server log's "certificate issued" count stays put.
// Tokens are minted here with the provisioner's plain private JWK, so any
// claim can be set.

#include <openssl/pem.h>

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "tests/integration/ca_fixture.h"
#include "tests/integration/token_minter.h"
#include "tests/support/pki.h"

namespace keystep::integration {
namespace {

using Catch::Matchers::Contains;
using keystep::testing::make_csr_pem;
using keystep::testing::make_key;

constexpr char kIssued[] = "certificate issued";

// SignCa is a CA made with --no-password, a key for CSRs and a minter
// holding the admin provisioner's private key.
struct SignCa : RunningCa {
  explicit SignCa(const std::function<void(const Pki&)>& prepare = {})
      : RunningCa({.password = false}, prepare), minter(TokenMinter::load(pki.provisioner_key(), "admin")) {}

  [[nodiscard]] std::string audience() const { return server.url() + "/1.0/sign"; }
  // token for subject (sans default to it), as `step ca token` makes it.
  [[nodiscard]] std::string token(const std::string& subject, std::vector<std::string> sans = {}) const {
    return minter.sign(minter.claims(subject, audience(), std::move(sans)));
  }
  [[nodiscard]] std::string csr(const std::string& cn, std::vector<std::string> dns = {}) const {
    if (dns.empty()) dns = {cn};
    return make_csr_pem(key.get(), {.cn = cn, .dns = dns});
  }

  // check_refused posts body and requires status, a JSON error whose message
  // contains needle, and no certificate issued.
  void check_refused(const std::string& body, int status, const std::string& needle) const {
    const auto before = server.count(kIssued);
    auto r = http.post("/1.0/sign", body, {{"Content-Type", "application/json"}});
    INFO("response: " << r.status << " " << r.body);
    CHECK(r.status == status);
    auto error = json_body(r);
    CHECK(error.value("status", 0) == status);
    CHECK_THAT(error.value("message", ""), Contains(needle, Catch::CaseSensitive::No));
    CHECK(server.count(kIssued) == before);
  }
  void check_refused(const nlohmann::json& body, int status, const std::string& needle) const {
    check_refused(body.dump(), status, needle);
  }

  TokenMinter minter;
  crypto::EvpPkeyPtr key = make_key();
};

nlohmann::json sign_request(const std::string& csr, const std::string& ott) { return {{"csr", csr}, {"ott", ott}}; }

// with_bad_signature flips the last byte of the CSR's signature.
std::string with_bad_signature(const std::string& csr_pem) {
  crypto::BioPtr in(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  crypto::X509ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  if (!req) throw HarnessError("cannot parse the CSR to tamper with");
  std::string der(static_cast<std::size_t>(i2d_X509_REQ(req.get(), nullptr)), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509_REQ(req.get(), &p);
  der.back() ^= 0x01;
  const std::string b64 = common::base64_encode(reinterpret_cast<const std::uint8_t*>(der.data()), der.size());
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

TEST_CASE("POST /1.0/sign issues for a CSR and a token minted with the provisioner's key", "[sign]") {
  SignCa ca;
  auto r = ca.http.post_sign(sign_request(ca.csr("ok.localhost"), ca.token("ok.localhost")));
  INFO(r.body);
  CHECK(r.status == 201);
  CHECK(ca.server.count(kIssued) == 1);
}

TEST_CASE("POST /1.0/sign accepts a token whose audience has no port, as step-ca does", "[sign]") {
  SignCa ca;
  auto claims = ca.minter.claims("noport.localhost", "https://localhost/1.0/sign");
  auto r = ca.http.post_sign(sign_request(ca.csr("noport.localhost"), ca.minter.sign(claims)));
  INFO(r.body);
  CHECK(r.status == 201);
}

TEST_CASE("POST /1.0/sign refuses a malformed PEM CSR with 400", "[sign]") {
  SignCa ca;
  const std::string garbage = "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n";
  ca.check_refused(sign_request(garbage, ca.token("x.localhost")), 400, "invalid csr");
}

TEST_CASE("POST /1.0/sign refuses a CSR whose signature does not verify with 400", "[sign]") {
  SignCa ca;
  ca.check_refused(sign_request(with_bad_signature(ca.csr("x.localhost")), ca.token("x.localhost")), 400,
                   "invalid csr");
}

TEST_CASE("POST /1.0/sign refuses an RSA-1024 CSR with 403 as too weak", "[sign]") {
  SignCa ca;
  auto weak = make_key("RSA", "", 1024);
  REQUIRE(weak);
  ca.check_refused(
      sign_request(make_csr_pem(weak.get(), {.cn = "x.localhost", .dns = {"x.localhost"}}), ca.token("x.localhost")),
      403, "too weak");
}

TEST_CASE("POST /1.0/sign refuses a P-192 CSR with 400 naming the curve", "[sign]") {
  SignCa ca;
  auto p192 = make_key("EC", "P-192");
  REQUIRE(p192);
  ca.check_refused(
      sign_request(make_csr_pem(p192.get(), {.cn = "x.localhost", .dns = {"x.localhost"}}), ca.token("x.localhost")),
      400, "P-192");
}

TEST_CASE("POST /1.0/sign refuses a CSR asking for a CA certificate with 403", "[sign]") {
  SignCa ca;
  ca.check_refused(
      sign_request(make_csr_pem(ca.key.get(), {.cn = "x.localhost", .dns = {"x.localhost"}, .is_ca = true}),
                   ca.token("x.localhost")),
      403, "CA certificate");
}

TEST_CASE("POST /1.0/sign refuses a CSR with a name the token does not grant with 403", "[sign]") {
  SignCa ca;
  SECTION("an extra DNS SAN") {
    ca.check_refused(sign_request(ca.csr("x.localhost", {"x.localhost", "evil.localhost"}), ca.token("x.localhost")),
                     403, "DNS names");
  }
  SECTION("another common name") {
    ca.check_refused(sign_request(ca.csr("evil.localhost", {"x.localhost"}), ca.token("x.localhost")), 403,
                     "common name");
  }
}

TEST_CASE("POST /1.0/sign refuses a name denied by the config's policy with 403", "[sign]") {
  SignCa ca([](const Pki& pki) {
    std::string config = read_text(pki.config());
    const std::string empty_deny = "  deny: {}\n";
    auto at = config.find(empty_deny);
    if (at == std::string::npos) throw HarnessError("the init config has no empty policy.deny to replace");
    config.replace(at, empty_deny.size(), "  deny:\n    dns: [\"denied.localhost\"]\n");
    write_text(pki.config(), config);
  });
  ca.check_refused(sign_request(ca.csr("denied.localhost"), ca.token("denied.localhost")), 403, "not allowed");
  auto allowed = ca.http.post_sign(sign_request(ca.csr("fine.localhost"), ca.token("fine.localhost")));
  CHECK(allowed.status == 201);
}

TEST_CASE("POST /1.0/sign refuses a name outside the config's policy allow list with 403", "[sign]") {
  SignCa ca([](const Pki& pki) {
    std::string config = read_text(pki.config());
    const std::string empty_allow = "  allow: {}\n";
    auto at = config.find(empty_allow);
    if (at == std::string::npos) throw HarnessError("the init config has no empty policy.allow to replace");
    config.replace(at, empty_allow.size(), "  allow:\n    dns: [\"*.allowed.localhost\"]\n");
    write_text(pki.config(), config);
  });
  ca.check_refused(sign_request(ca.csr("other.localhost"), ca.token("other.localhost")), 403, "not allowed");
  auto allowed = ca.http.post_sign(sign_request(ca.csr("a.allowed.localhost"), ca.token("a.allowed.localhost")));
  CHECK(allowed.status == 201);
}

TEST_CASE("POST /1.0/sign refuses a notAfter beyond the maximum duration with 403", "[sign]") {
  SignCa ca;  // init's config: maxDuration 2160h
  auto body = sign_request(ca.csr("x.localhost"), ca.token("x.localhost"));
  body["notAfter"] = "2200h";
  ca.check_refused(body, 403, "maximum");
}

TEST_CASE("POST /1.0/sign refuses an expired token with 401", "[sign]") {
  SignCa ca;
  auto claims = ca.minter.claims("x.localhost", ca.audience());
  const auto now = unix_seconds(std::chrono::system_clock::now());
  claims["iat"] = claims["nbf"] = now - 900;
  claims["exp"] = now - 600;
  ca.check_refused(sign_request(ca.csr("x.localhost"), ca.minter.sign(claims)), 401, "expired");
}

TEST_CASE("POST /1.0/sign refuses a token that is not valid yet with 401", "[sign]") {
  SignCa ca;
  auto claims = ca.minter.claims("x.localhost", ca.audience());
  const auto now = unix_seconds(std::chrono::system_clock::now());
  claims["nbf"] = now + 600;
  claims["exp"] = now + 900;
  ca.check_refused(sign_request(ca.csr("x.localhost"), ca.minter.sign(claims)), 401, "not valid yet");
}

TEST_CASE("POST /1.0/sign refuses a token for another audience with 401", "[sign]") {
  SignCa ca;
  SECTION("another CA") {
    auto claims = ca.minter.claims("x.localhost", "https://ca.example.com/1.0/sign");
    ca.check_refused(sign_request(ca.csr("x.localhost"), ca.minter.sign(claims)), 401, "audience");
  }
  SECTION("this CA's revoke endpoint") {
    auto claims = ca.minter.claims("x.localhost", ca.server.url() + "/1.0/revoke");
    ca.check_refused(sign_request(ca.csr("x.localhost"), ca.minter.sign(claims)), 401, "audience");
  }
}

TEST_CASE("POST /1.0/sign refuses a token whose kid names no provisioner with 401", "[sign]") {
  SignCa ca;
  auto claims = ca.minter.claims("x.localhost", ca.audience());
  ca.check_refused(sign_request(ca.csr("x.localhost"), ca.minter.sign(claims, "no-such-kid")), 401,
                   "provisioner not found");
}

TEST_CASE("POST /1.0/sign refuses a token signed by another key under the provisioner's kid with 401", "[sign]") {
  SignCa ca;
  auto impostor = TokenMinter::generate("admin");
  auto claims = impostor.claims("x.localhost", ca.audience());
  ca.check_refused(sign_request(ca.csr("x.localhost"), impostor.sign(claims, ca.minter.key().kid())), 401, "signature");
}

TEST_CASE("POST /1.0/sign accepts a token once and refuses its replay with 401 token already used", "[sign]") {
  SignCa ca;
  const std::string token = ca.token("once.localhost");
  auto first = ca.http.post_sign(sign_request(ca.csr("once.localhost"), token));
  INFO(first.body);
  REQUIRE(first.status == 201);
  CHECK(ca.server.count(kIssued) == 1);
  ca.check_refused(sign_request(ca.csr("once.localhost"), token), 401, "token already used");
}

TEST_CASE("POST /1.0/sign refuses a body over 1 MiB with 413", "[sign]") {
  SignCa ca;
  nlohmann::json body = sign_request(ca.csr("x.localhost"), ca.token("x.localhost"));
  body["padding"] = std::string(std::size_t{1} << 20, 'x');
  write_text(ca.tmp / "big.json", body.dump());
  // curl, as a client should, reads the early 413 while it is still sending.
  auto curl = run({"curl", "-sS", "--cacert", ca.pki.root_cert().string(), "-H", "Content-Type: application/json",
                   "--data-binary", "@" + (ca.tmp / "big.json").string(), "-o", (ca.tmp / "response.json").string(),
                   "-w", "%{http_code}", ca.audience()});
  INFO(curl.describe());
  REQUIRE(curl.exit_code == 0);
  CHECK(curl.out == "413");
  auto error = nlohmann::json::parse(read_text(ca.tmp / "response.json"), nullptr, false);
  INFO(read_text(ca.tmp / "response.json"));
  CHECK(error.value("status", 0) == 413);
  CHECK_THAT(error.value("message", ""), Contains("larger than"));
  CHECK(ca.server.count(kIssued) == 0);
}

TEST_CASE("POST /1.0/sign refuses a body that is not JSON with 400 error decoding json", "[sign]") {
  SignCa ca;
  ca.check_refused(std::string("{"), 400, "error decoding json");
}

TEST_CASE("POST /1.0/sign refuses a request without csr with 400 missing csr", "[sign]") {
  SignCa ca;
  ca.check_refused(nlohmann::json{{"ott", ca.token("x.localhost")}}, 400, "missing csr");
}

TEST_CASE("POST /1.0/sign refuses a request without ott with 400 missing ott", "[sign]") {
  SignCa ca;
  ca.check_refused(nlohmann::json{{"csr", ca.csr("x.localhost")}}, 400, "missing ott");
}

}  // namespace
}  // namespace keystep::integration

namespace keystep::integration {
namespace {

TEST_CASE("GET /metrics counts issued certificates, refusals by reason and requests by route", "[sign][metrics]") {
  SignCa ca;
  const std::string token = ca.token("m.localhost");
  REQUIRE(ca.http.post_sign(sign_request(ca.csr("m.localhost"), token)).status == 201);
  REQUIRE(ca.http.post_sign(sign_request(ca.csr("m.localhost"), token)).status == 401);
  REQUIRE(ca.http.post_sign(sign_request(ca.csr("evil.localhost"), ca.token("m.localhost"))).status == 403);
  auto r = ca.http.get("/metrics");
  REQUIRE(r.status == 200);
  CHECK_THAT(r.content_type, Contains("text/plain"));
  CHECK_THAT(r.body, Contains("keystep_certificates_issued_total{provisioner=\"admin\",result=\"success\"} 1"));
  CHECK_THAT(r.body, Contains("keystep_requests_denied_total{reason=\"token_replayed\"} 1"));
  CHECK_THAT(r.body, Contains("keystep_requests_denied_total{reason=\"name_not_allowed\"} 1"));
  CHECK_THAT(r.body, Contains("keystep_http_requests_total{code=\"201\",route=\"/1.0/sign\"} 1"));
  CHECK_THAT(r.body, Contains("keystep_sign_duration_seconds_count 1"));
  CHECK_THAT(r.body, Contains("keystep_intermediate_not_after_timestamp_seconds "));
}

}  // namespace
}  // namespace keystep::integration
