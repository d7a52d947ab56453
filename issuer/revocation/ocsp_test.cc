#include "issuer/revocation/ocsp.h"

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/revocation/testing_revocation.h"

using namespace keystep;
using namespace keystep::revocation;
using namespace keystep::revocation::testing;
using namespace std::chrono_literals;

namespace {

using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, crypto::FreeWith<OCSP_RESPONSE_free>>;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, crypto::FreeWith<OCSP_BASICRESP_free>>;

// Fixture: a CA, a leaf it issued, and both on disk for openssl ocsp.
struct Fixture {
  TestCa test_ca = make_test_ca();
  crypto::Certificate leaf = make_leaf(*test_ca.ca, "leaf.example");
  TempDir dir;
  std::string root = dir.write("root.pem", test_ca.pki.root_pem);
  std::string inter = dir.write("inter.pem", test_ca.pki.intermediate_pem);
  std::string leaf_pem = dir.write("leaf.pem", leaf.pem());
};

// openssl_request asks the openssl tool for a request; `flags` adds e.g.
// -no_nonce or -sha256 (a digest must come before -cert).
std::string openssl_request(const TempDir& dir, const std::string& issuer, const std::string& cert,
                            const std::string& flags) {
  const auto out = dir.path("req.der");
  auto result = run("openssl ocsp " + flags + " -issuer " + issuer + " -cert " + cert + " -reqout " + out);
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return dir.read("req.der");
}

// openssl_check verifies resp.der with the intermediate trusted through
// the root, and prints the leaf's status.
CommandResult openssl_check(const Fixture& f, const std::string& flags) {
  return run("openssl ocsp " + flags + " -issuer " + f.inter + " -cert " + f.leaf_pem + " -respin " +
             f.dir.path("resp.der") + " -CAfile " + f.root + " -verify_other " + f.inter);
}

OcspStatusLookup fixed(CertStatus status, std::vector<std::string>* asked = nullptr) {
  return [status, asked](const std::string& serial) -> Result<CertStatus> {
    if (asked != nullptr) asked->push_back(serial);
    return status;
  };
}

Result<std::string> answer(const std::string& request_der, const signing::CertificateAuthority& ca,
                           const OcspStatusLookup& lookup, common::TimePoint now, std::chrono::seconds validity = 1h) {
  auto request = parse_ocsp_request(request_der);
  REQUIRE(request);
  return respond(*request, ca, lookup, now, validity);
}

OcspResponsePtr decode(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(response);
  return response;
}

OcspBasicRespPtr basic_of(const std::string& der) {
  auto response = decode(der);
  REQUIRE(OCSP_response_status(response.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL);
  OcspBasicRespPtr basic(OCSP_response_get1_basic(response.get()));
  REQUIRE(basic);
  return basic;
}

struct Single {
  int status = -1;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  common::TimePoint revoked_at, this_update, next_update;
};

Single single(OCSP_BASICRESP* basic, int index) {
  REQUIRE(index < OCSP_resp_count(basic));
  ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;  // borrowed
  Single s;
  s.status = OCSP_single_get0_status(OCSP_resp_get0(basic, index), &s.reason, &revoked, &this_update, &next_update);
  if (revoked != nullptr) s.revoked_at = crypto::asn1_time_to_time_point(revoked);
  if (this_update != nullptr) s.this_update = crypto::asn1_time_to_time_point(this_update);
  if (next_update != nullptr) s.next_update = crypto::asn1_time_to_time_point(next_update);
  return s;
}

std::chrono::system_clock::time_point seconds(common::TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

}  // namespace

TEST_CASE("respond answers good, signed by the intermediate and verified by openssl ocsp through the root",
          "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  std::vector<std::string> asked;
  const auto now = std::chrono::system_clock::now();
  auto response = answer(request, *f.test_ca.ca, fixed(CertStatus::good(), &asked), now, 1h);
  REQUIRE(response);
  f.dir.write("resp.der", *response);

  CHECK(asked == std::vector<std::string>{f.leaf.serial_decimal()});
  auto result = openssl_check(f, "-no_nonce");
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.output, "Response verify OK"));
  CHECK(contains(result.output, f.leaf_pem + ": good"));
  CHECK_FALSE(contains(result.output, "WARNING"));

  auto basic = basic_of(*response);
  auto s = single(basic.get(), 0);
  CHECK(s.status == V_OCSP_CERTSTATUS_GOOD);
  CHECK(s.this_update == seconds(now));
  CHECK(s.next_update == seconds(now) + 1h);
  CHECK(crypto::asn1_time_to_time_point(OCSP_resp_get0_produced_at(basic.get())) == seconds(now));
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());  // borrowed
  CHECK((certs == nullptr || sk_X509_num(certs) == 0));  // the issuer signs directly
  const ASN1_OCTET_STRING* key_hash = nullptr;
  const X509_NAME* name = nullptr;
  REQUIRE(OCSP_resp_get0_id(basic.get(), &key_hash, &name) == 1);
  CHECK(key_hash != nullptr);  // responder ID by key
  CHECK(name == nullptr);
}

TEST_CASE("respond answers revoked with the revocation time and reason", "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  const auto now = std::chrono::system_clock::now();
  const auto revoked_at = now - 90min + 250ms;
  auto response = answer(request, *f.test_ca.ca, fixed(CertStatus::revoked(revoked_at, 1)), now);
  REQUIRE(response);
  f.dir.write("resp.der", *response);

  auto result = openssl_check(f, "-no_nonce");
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.output, "Response verify OK"));
  CHECK(contains(result.output, f.leaf_pem + ": revoked"));
  CHECK(contains(result.output, "Reason: keyCompromise"));
  CHECK(contains(result.output, "Revocation Time:"));

  auto s = single(basic_of(*response).get(), 0);
  CHECK(s.status == V_OCSP_CERTSTATUS_REVOKED);
  CHECK(s.reason == 1);
  CHECK(s.revoked_at == seconds(revoked_at));
}

TEST_CASE("respond omits the revocation reason when it is unspecified", "[revocation][ocsp]") {
  Fixture f;
  const auto now = std::chrono::system_clock::now();
  auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  auto response = answer(request, *f.test_ca.ca, fixed(CertStatus::revoked(now - 1h, 0)), now);
  REQUIRE(response);
  auto s = single(basic_of(*response).get(), 0);
  CHECK(s.status == V_OCSP_CERTSTATUS_REVOKED);
  CHECK(s.reason == OCSP_REVOKED_STATUS_NOSTATUS);
}

TEST_CASE("respond fails with internal for a reason code outside RFC 5280", "[revocation][ocsp]") {
  Fixture f;
  const auto now = std::chrono::system_clock::now();
  auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  for (int reason : {-1, 7, 11}) {
    auto response = answer(request, *f.test_ca.ca, fixed(CertStatus::revoked(now - 1h, reason)), now);
    REQUIRE_FALSE(response);
    CHECK(response.error().code == Errc::internal);
  }
}

TEST_CASE("respond answers unknown when the lookup does not know the serial", "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  auto response = answer(request, *f.test_ca.ca, fixed(CertStatus::unknown()), std::chrono::system_clock::now());
  REQUIRE(response);
  f.dir.write("resp.der", *response);
  auto result = openssl_check(f, "-no_nonce");
  INFO(result.output);
  CHECK(contains(result.output, "Response verify OK"));
  CHECK(contains(result.output, f.leaf_pem + ": unknown"));
}

TEST_CASE("respond echoes the request nonce, which openssl ocsp checks", "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "");
  auto parsed = parse_ocsp_request(request);
  REQUIRE(parsed);
  CHECK(parsed->has_nonce);
  auto response = respond(*parsed, *f.test_ca.ca, fixed(CertStatus::good()), std::chrono::system_clock::now(), 1h);
  REQUIRE(response);
  f.dir.write("resp.der", *response);
  auto basic = basic_of(*response);
  CHECK(OCSP_check_nonce(parsed->request.get(), basic.get()) == 1);  // present in both and equal

  auto result = run("openssl ocsp -reqin " + f.dir.path("req.der") + " -respin " + f.dir.path("resp.der") +
                    " -CAfile " + f.root + " -verify_other " + f.inter);
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.output, "Response verify OK"));
  CHECK_FALSE(contains(result.output, "Nonce"));
  CHECK_FALSE(contains(result.output, "nonce"));

  // Control: openssl does compare nonces, so another request's nonce fails.
  (void)openssl_request(f.dir, f.inter, f.leaf_pem, "");
  auto mismatch = run("openssl ocsp -reqin " + f.dir.path("req.der") + " -respin " + f.dir.path("resp.der") +
                      " -CAfile " + f.root + " -verify_other " + f.inter);
  INFO(mismatch.output);
  CHECK(contains(mismatch.output, "Nonce Verify error"));
}

TEST_CASE("respond adds no nonce when the request has none", "[revocation][ocsp]") {
  Fixture f;
  auto parsed = parse_ocsp_request(openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce"));
  REQUIRE(parsed);
  CHECK_FALSE(parsed->has_nonce);
  auto response = respond(*parsed, *f.test_ca.ca, fixed(CertStatus::good()), std::chrono::system_clock::now(), 1h);
  REQUIRE(response);
  CHECK(OCSP_check_nonce(parsed->request.get(), basic_of(*response).get()) == 2);  // absent in both
}

TEST_CASE("respond answers unknown for another issuer's CertID without asking the lookup", "[revocation][ocsp]") {
  Fixture f;
  auto other_ca = make_test_ca();
  auto other_leaf = make_leaf(*other_ca.ca, "other.example");
  const auto other_inter = f.dir.write("other-inter.pem", other_ca.pki.intermediate_pem);
  const auto other_leaf_pem = f.dir.write("other-leaf.pem", other_leaf.pem());
  // One request naming our leaf, then the other CA's leaf.
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem + " -issuer " + other_inter + " -cert " +
                                                          other_leaf_pem, "-no_nonce");
  auto parsed = parse_ocsp_request(request);
  REQUIRE(parsed);
  REQUIRE(parsed->cert_ids.size() == 2);
  CHECK(parsed->cert_ids[1].serial == other_leaf.serial_decimal());

  std::vector<std::string> asked;
  auto response = respond(*parsed, *f.test_ca.ca, fixed(CertStatus::revoked(std::chrono::system_clock::now(), 1),
                                                        &asked),
                          std::chrono::system_clock::now(), 1h);
  REQUIRE(response);
  CHECK(asked == std::vector<std::string>{f.leaf.serial_decimal()});
  auto basic = basic_of(*response);
  REQUIRE(OCSP_resp_count(basic.get()) == 2);
  CHECK(single(basic.get(), 0).status == V_OCSP_CERTSTATUS_REVOKED);
  CHECK(single(basic.get(), 1).status == V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_CASE("respond matches a CertID hashed with SHA-256", "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce -sha256");
  auto parsed = parse_ocsp_request(request);
  REQUIRE(parsed);
  REQUIRE(parsed->cert_ids.size() == 1);
  CHECK(parsed->cert_ids[0].hash_algorithm == "SHA256");
  CHECK(parsed->cert_ids[0].serial == f.leaf.serial_decimal());
  auto response = respond(*parsed, *f.test_ca.ca, fixed(CertStatus::good()), std::chrono::system_clock::now(), 1h);
  REQUIRE(response);
  f.dir.write("resp.der", *response);
  auto result = openssl_check(f, "-no_nonce -sha256");
  INFO(result.output);
  CHECK(contains(result.output, "Response verify OK"));
  CHECK(contains(result.output, f.leaf_pem + ": good"));
}

TEST_CASE("respond signs with Ed25519 and RSA intermediates in a form openssl ocsp verifies",
          "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  for (const auto& [kty, crv] : std::vector<std::pair<std::string, std::string>>{{"OKP", "Ed25519"}, {"RSA", ""}}) {
    INFO(kty);
    TempDir dir;
    auto test_ca = make_test_ca(kty, crv);
    auto leaf = make_leaf(*test_ca.ca, "leaf.example");
    const auto root = dir.write("root.pem", test_ca.pki.root_pem);
    const auto inter = dir.write("inter.pem", test_ca.pki.intermediate_pem);
    const auto leaf_pem = dir.write("leaf.pem", leaf.pem());
    auto response = answer(openssl_request(dir, inter, leaf_pem, "-no_nonce"), *test_ca.ca,
                           fixed(CertStatus::good()), std::chrono::system_clock::now());
    REQUIRE(response);
    dir.write("resp.der", *response);
    auto result = run("openssl ocsp -issuer " + inter + " -cert " + leaf_pem + " -respin " + dir.path("resp.der") +
                      " -CAfile " + root + " -verify_other " + inter + " -no_nonce");
    INFO(result.output);
    CHECK(contains(result.output, "Response verify OK"));
    CHECK(contains(result.output, leaf_pem + ": good"));
  }
}

TEST_CASE("respond rejects a non-positive validity", "[revocation][ocsp]") {
  Fixture f;
  auto parsed = parse_ocsp_request(openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce"));
  REQUIRE(parsed);
  auto response = respond(*parsed, *f.test_ca.ca, fixed(CertStatus::good()), std::chrono::system_clock::now(), 0s);
  REQUIRE_FALSE(response);
  CHECK(response.error().code == Errc::invalid_argument);
}

TEST_CASE("parse_ocsp_request rejects empty, oversized, malformed and trailing bytes", "[revocation][ocsp]") {
  CHECK(parse_ocsp_request("").error().code == Errc::invalid_argument);
  CHECK(parse_ocsp_request(std::string(kMaxOcspRequestBytes + 1, '\x30')).error().code == Errc::invalid_argument);
  CHECK(parse_ocsp_request("not an ocsp request").error().code == Errc::invalid_argument);

  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  REQUIRE(parse_ocsp_request(request));
  auto trailing = parse_ocsp_request(request + "x");
  REQUIRE_FALSE(trailing);
  CHECK(contains(trailing.error().message, "trailing"));
  CHECK(parse_ocsp_request(request.substr(0, request.size() - 1)).error().code == Errc::invalid_argument);
}

TEST_CASE("answer_ocsp_request answers malformed bytes with a malformedRequest response",
          "[revocation][ocsp][openssl]") {
  require_openssl_cli();
  Fixture f;
  auto response = answer_ocsp_request("\x30\x03garbage", *f.test_ca.ca, fixed(CertStatus::good()),
                                      std::chrono::system_clock::now(), 1h);
  REQUIRE(response);
  CHECK(OCSP_response_status(decode(*response).get()) == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  f.dir.write("resp.der", *response);
  auto result = run("openssl ocsp -respin " + f.dir.path("resp.der") + " -resp_text -noverify");
  INFO(result.output);
  CHECK(contains(result.output, "Responder Error: malformedrequest (1)"));
}

TEST_CASE("answer_ocsp_request maps an unavailable lookup to tryLater and other failures to internalError",
          "[revocation][ocsp]") {
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "-no_nonce");
  const auto now = std::chrono::system_clock::now();
  auto unavailable = [](const std::string&) -> Result<CertStatus> { return fail(Errc::unavailable, "db down"); };
  auto broken = [](const std::string&) -> Result<CertStatus> { return fail(Errc::internal, "bug"); };

  auto later = answer_ocsp_request(request, *f.test_ca.ca, unavailable, now, 1h);
  REQUIRE(later);
  CHECK(OCSP_response_status(decode(*later).get()) == OCSP_RESPONSE_STATUS_TRYLATER);
  auto internal = answer_ocsp_request(request, *f.test_ca.ca, broken, now, 1h);
  REQUIRE(internal);
  CHECK(OCSP_response_status(decode(*internal).get()) == OCSP_RESPONSE_STATUS_INTERNALERROR);
  auto good = answer_ocsp_request(request, *f.test_ca.ca, fixed(CertStatus::good()), now, 1h);
  REQUIRE(good);
  CHECK(OCSP_response_status(decode(*good).get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL);
}

TEST_CASE("error_response encodes each RFC 6960 error status without a body", "[revocation][ocsp]") {
  for (auto status : {OcspResponseStatus::malformed_request, OcspResponseStatus::internal_error,
                      OcspResponseStatus::try_later, OcspResponseStatus::sig_required,
                      OcspResponseStatus::unauthorized}) {
    auto der = error_response(status);
    REQUIRE(der);
    auto response = decode(*der);
    CHECK(OCSP_response_status(response.get()) == static_cast<int>(status));
    OcspBasicRespPtr basic(OCSP_response_get1_basic(response.get()));
    CHECK_FALSE(basic);
    (void)crypto::drain_openssl_errors();  // get1_basic complains about the missing body
  }
  CHECK(*error_response(OcspResponseStatus::malformed_request) == std::string("\x30\x03\x0a\x01\x01", 5));
}

TEST_CASE("decode_ocsp_get_path undoes percent-encoding and keeps a literal plus", "[revocation][ocsp]") {
  const std::string bytes("\xfb\xff", 2);  // base64 "+/8="
  REQUIRE(common::base64_encode(common::to_bytes(bytes)) == "+/8=");
  for (const std::string path : {"%2B%2F8%3D", "%2b%2f8%3d", "+/8=", "+%2F8%3D", "+/8"}) {
    INFO(path);
    auto der = decode_ocsp_get_path(path);
    REQUIRE(der);
    CHECK(*der == bytes);
  }
}

TEST_CASE("decode_ocsp_get_path rejects bad escapes and non-base64 text", "[revocation][ocsp]") {
  for (const std::string path : {"", "%", "%2", "%G1abc", "ab cd", "abc*", "a", "-_8="}) {
    INFO(path);
    auto der = decode_ocsp_get_path(path);
    REQUIRE_FALSE(der);
    CHECK(der.error().code == Errc::invalid_argument);
  }
  CHECK_FALSE(decode_ocsp_get_path(std::string(300 * 1024, 'A')));
}

TEST_CASE("a GET-encoded request decodes to the same request", "[revocation][ocsp]") {
  Fixture f;
  const auto request = openssl_request(f.dir, f.inter, f.leaf_pem, "");
  std::string path;
  for (char c : common::base64_encode(common::to_bytes(request))) {
    if (c == '+') path += "%2B";
    else if (c == '/') path += "%2F";
    else if (c == '=') path += "%3D";
    else path += c;
  }
  auto der = decode_ocsp_get_path(path);
  REQUIRE(der);
  CHECK(*der == request);
  auto parsed = parse_ocsp_request(*der);
  REQUIRE(parsed);
  CHECK(parsed->cert_ids.at(0).serial == f.leaf.serial_decimal());
  CHECK(parsed->cert_ids.at(0).hash_algorithm == "SHA1");
}
