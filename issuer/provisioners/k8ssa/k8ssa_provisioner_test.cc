#include "issuer/provisioners/k8ssa/k8ssa_provisioner.h"

#include <catch2/catch.hpp>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jws.h"
#include "tests/support/pki.h"

using namespace keystep;
using namespace keystep::provisioners;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const common::TimePoint kNow{std::chrono::seconds(1'800'000'000)};
const std::int64_t kNowS = 1'800'000'000;

// FakeReviewer answers every review with `result` and records what it was
// asked; the signature of the tokens it sees is irrelevant.
class FakeReviewer final : public TokenReviewer {
 public:
  Result<ServiceAccountIdentity> result;
  int calls = 0;
  std::string last_token;
  std::vector<std::string> last_audiences;

  explicit FakeReviewer(Result<ServiceAccountIdentity> r) : result(std::move(r)) {}

  Result<ServiceAccountIdentity> review(std::string_view token, const std::vector<std::string>& audiences) override {
    ++calls;
    last_token = token;
    last_audiences = audiences;
    return result;
  }
};

ServiceAccountIdentity identity(const std::string& ns, const std::string& sa,
                                std::vector<std::string> audiences = {"k8s"}, std::string pod = "") {
  ServiceAccountIdentity id;
  id.username = "system:serviceaccount:" + ns + ":" + sa;
  id.uid = "0b5e7c1a-5c1e-4c6f-9a51-3f0e2b0d9a11";
  id.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  id.audiences = std::move(audiences);
  id.pod_name = std::move(pod);
  return id;
}

std::string fake_jwt(const json& payload) {
  const json header = {{"alg", "RS256"}, {"kid", "k1"}};
  return common::base64url_encode(header.dump()) + "." + common::base64url_encode(payload.dump()) + "." +
         common::base64url_encode(std::string("not-a-signature"));
}

json bound_payload(const std::string& ns, const std::string& sa, std::int64_t exp = kNowS + 3600) {
  return {{"aud", {"k8s"}},
          {"exp", exp},
          {"iat", kNowS - 60},
          {"nbf", kNowS - 60},
          {"iss", "https://kubernetes.default.svc.cluster.local"},
          {"sub", "system:serviceaccount:" + ns + ":" + sa},
          {"kubernetes.io",
           {{"namespace", ns},
            {"pod", {{"name", sa + "-7f9c"}, {"uid", "1"}}},
            {"serviceaccount", {{"name", sa}, {"uid", "2"}}}}}};
}

K8sSaProvisioner make(K8sSaProvisionerConfig config = {.name = "k8s"}) {
  auto p = K8sSaProvisioner::create(std::move(config), policy::Claims{});
  REQUIRE(p);
  return std::move(*p);
}

Error create_error(K8sSaProvisionerConfig config) {
  auto p = K8sSaProvisioner::create(std::move(config), policy::Claims{}, "provisioners[2]");
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::invalid_argument);
  return p.error();
}

crypto::Csr make_csr(const testing::CsrSpec& spec) {
  auto key = testing::make_key();
  auto csr = crypto::Csr::from_pem(testing::make_csr_pem(key.get(), spec));
  REQUIRE(csr);
  return std::move(*csr);
}

}  // namespace

TEST_CASE("K8sSA grants the default names of a reviewed bound token", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("team", "app"));
  const std::string token = fake_jwt(bound_payload("team", "app"));
  auto grant = p.authorize(token, reviewer, kNow);
  REQUIRE(grant);
  CHECK(reviewer.calls == 1);
  CHECK(reviewer.last_token == token);
  CHECK(reviewer.last_audiences == std::vector<std::string>{"k8s"});  // audiences default to the name
  CHECK(grant->ns == "team");
  CHECK(grant->service_account == "app");
  CHECK(grant->pod_name.empty());
  CHECK(grant->names.dns == std::vector<std::string>{"app.team.svc", "app.team.svc.cluster.local"});
  CHECK(grant->names.uris == std::vector<std::string>{"spiffe://cluster.local/ns/team/sa/app"});
  CHECK(grant->names.ips.empty());
  CHECK(grant->names.emails.empty());
  CHECK(grant->subject == "app.team.svc");
  CHECK(grant->names.common_name == "app.team.svc");
  CHECK(grant->expires_at == kNow + 3600s);
  CHECK(grant->provisioner.type == signing::ProvisionerType::k8ssa);
  CHECK(static_cast<int>(grant->provisioner.type) == 8);
  CHECK(grant->provisioner.name == "k8s");
  CHECK(grant->provisioner.credential_id.empty());
}

TEST_CASE("K8sSA refuses a token the reviewer rejects", "[k8ssa]") {
  auto p = make();
  const std::string token = fake_jwt(bound_payload("team", "app"));

  FakeReviewer rejected(fail(Errc::unauthenticated, "token has been invalidated"));
  auto r = p.authorize(token, rejected, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK(r.error().message == "service account token rejected: token has been invalidated");

  FakeReviewer down(fail(Errc::unavailable, "kube-apiserver: connection refused"));
  r = p.authorize(token, down, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unavailable);
  CHECK(r.error().message == "kube-apiserver: connection refused");

  FakeReviewer forbidden(fail(Errc::permission_denied, "tokenreviews.authentication.k8s.io is forbidden"));
  r = p.authorize(token, forbidden, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::internal);  // the CA's RBAC, not the caller's fault
}

TEST_CASE("K8sSA refuses a review whose audiences are not the provisioner's", "[k8ssa]") {
  auto p = make({.name = "k8s", .audiences = {"keystep", "https://ca.internal"}});
  FakeReviewer reviewer(identity("team", "app", {"https://kubernetes.default.svc"}));
  auto r = p.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK(r.error().message == "token is not bound to an audience of provisioner \"k8s\"");
  CHECK(reviewer.last_audiences == std::vector<std::string>{"keystep", "https://ca.internal"});

  reviewer.result = identity("team", "app", {"https://kubernetes.default.svc", "https://ca.internal"});
  CHECK(p.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow));
}

TEST_CASE("K8sSA refuses a review that is not of a service account", "[k8ssa]") {
  auto p = make();
  const std::string token = fake_jwt(bound_payload("team", "app"));
  for (const std::string username : {"admin", "system:serviceaccount:team", "system:serviceaccount::app",
                                     "system:serviceaccount:team:", "system:serviceaccount:Team:app",
                                     "system:serviceaccount:team:app:extra", "system:serviceaccount:team:a/b"}) {
    auto id = identity("team", "app");
    id.username = username;
    FakeReviewer reviewer(id);
    auto r = p.authorize(token, reviewer, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unauthenticated);
  }
}

TEST_CASE("K8sSA serves only the configured namespaces", "[k8ssa]") {
  auto p = make({.name = "k8s", .namespaces = {"team", "infra"}});
  FakeReviewer reviewer(identity("other", "app"));
  auto r = p.authorize(fake_jwt(bound_payload("other", "app")), reviewer, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::permission_denied);
  CHECK(r.error().message == "namespace \"other\" is not served by provisioner \"k8s\"");

  reviewer.result = identity("infra", "app");
  CHECK(p.authorize(fake_jwt(bound_payload("infra", "app")), reviewer, kNow));
}

TEST_CASE("K8sSA takes the identity from the review, never from the token payload", "[k8ssa]") {
  auto p = make({.name = "k8s", .namespaces = {"team"}});
  FakeReviewer reviewer(identity("team", "app"));
  // The unverified payload claims kube-system/admin; the API server says team/app.
  auto grant = p.authorize(fake_jwt(bound_payload("kube-system", "admin")), reviewer, kNow);
  REQUIRE(grant);
  CHECK(grant->ns == "team");
  CHECK(grant->service_account == "app");
  CHECK(grant->names.dns == std::vector<std::string>{"app.team.svc", "app.team.svc.cluster.local"});

  // And the namespace filter applies to the reviewed namespace too.
  reviewer.result = identity("kube-system", "admin");
  auto r = p.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::permission_denied);
}

TEST_CASE("K8sSA refuses an expired token even when the reviewer accepts it", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("team", "app"));
  auto r = p.authorize(fake_jwt(bound_payload("team", "app", kNowS - 61)), reviewer, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK(r.error().message == "service account token is expired (exp)");
  CHECK(reviewer.calls == 0);  // refused before bothering the API server

  CHECK(p.authorize(fake_jwt(bound_payload("team", "app", kNowS - 59)), reviewer, kNow));  // within the leeway

  json bad_exp = bound_payload("team", "app");
  bad_exp["exp"] = "tomorrow";
  CHECK(p.authorize(fake_jwt(bad_exp), reviewer, kNow).error().code == Errc::unauthenticated);
  bad_exp["exp"] = 1e300;
  CHECK(p.authorize(fake_jwt(bad_exp), reviewer, kNow).error().code == Errc::unauthenticated);
}

TEST_CASE("K8sSA accepts a legacy token without exp", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("default", "app"));
  const json legacy = {{"iss", "kubernetes/serviceaccount"},
                       {"sub", "system:serviceaccount:default:app"},
                       {"kubernetes.io/serviceaccount/namespace", "default"},
                       {"kubernetes.io/serviceaccount/service-account.name", "app"}};
  CHECK(K8sSaProvisioner::looks_like_service_account_token(legacy));
  auto grant = p.authorize(fake_jwt(legacy), reviewer, kNow);
  REQUIRE(grant);
  CHECK(grant->expires_at == kNow);
  CHECK(grant->subject == "app.default.svc");
}

TEST_CASE("K8sSA refuses a token that is not a JWT without a review", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("team", "app"));
  for (const std::string& token : std::vector<std::string>{"", "opaque-token", "a.b.c", fake_jwt(json::array({1}))}) {
    auto r = p.authorize(token, reviewer, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unauthenticated);
    CHECK(r.error().message == "service account token is not a JWT");  // never echoed
  }
  CHECK(p.authorize(std::string(jose::kMaxTokenBytes + 1, 'a'), reviewer, kNow).error().code ==
        Errc::unauthenticated);
  CHECK(reviewer.calls == 0);
}

TEST_CASE("K8sSA check_csr allows a subset of the granted names", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("default", "app"));
  auto grant = p.authorize(fake_jwt(bound_payload("default", "app")), reviewer, kNow);
  REQUIRE(grant);

  CHECK(p.check_csr(make_csr({}), *grant));  // no names: all granted names
  CHECK(p.check_csr(make_csr({.cn = "app.default.svc"}), *grant));
  CHECK(p.check_csr(make_csr({.cn = "APP.default.svc", .dns = {"app.default.svc.cluster.local"}}), *grant));
  CHECK(p.check_csr(make_csr({.uris = {"spiffe://cluster.local/ns/default/sa/app"}}), *grant));
  CHECK(p.check_csr(make_csr({.cn = "spiffe://cluster.local/ns/default/sa/app"}), *grant));
  CHECK(p.check_csr(make_csr({.cn = "app.default.svc",
                              .dns = {"app.default.svc", "app.default.svc.cluster.local"},
                              .uris = {"spiffe://cluster.local/ns/default/sa/app"}}),
                    *grant));
}

TEST_CASE("K8sSA check_csr refuses names of another service account", "[k8ssa]") {
  auto p = make();
  FakeReviewer reviewer(identity("default", "app"));
  auto grant = p.authorize(fake_jwt(bound_payload("default", "app")), reviewer, kNow);
  REQUIRE(grant);

  auto s = p.check_csr(make_csr({.dns = {"app.default.svc", "db.other.svc"}}), *grant);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Errc::permission_denied);
  CHECK(s.error().message == "name \"db.other.svc\" is not allowed for service account default/app");

  s = p.check_csr(make_csr({.cn = "db.other.svc"}), *grant);
  REQUIRE_FALSE(s);
  CHECK(s.error().message == "name \"db.other.svc\" is not allowed for service account default/app");

  s = p.check_csr(make_csr({.uris = {"spiffe://cluster.local/ns/other/sa/db"}}), *grant);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Errc::permission_denied);

  s = p.check_csr(make_csr({.ips = {"10.0.0.1"}}), *grant);
  REQUIRE_FALSE(s);
  CHECK(s.error().message == "name \"10.0.0.1\" is not allowed for service account default/app");

  s = p.check_csr(make_csr({.emails = {"app@default.svc"}}), *grant);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Errc::permission_denied);
}

TEST_CASE("K8sSA uses custom name templates and trust domain", "[k8ssa]") {
  auto p = make({.name = "k8s",
                 .name_templates = {"spiffe://{trustDomain}/{namespace}/{serviceAccount}",
                                    "{serviceAccount}.{namespace}.mesh.example.com", "{podName}.pods.example.com",
                                    "{serviceAccount}.{namespace}.mesh.example.com"},
                 .trust_domain = "prod.example.com"});
  FakeReviewer reviewer(identity("team", "app", {"k8s"}, "app-7f9c"));
  auto grant = p.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow);
  REQUIRE(grant);
  CHECK(grant->pod_name == "app-7f9c");
  // Duplicates collapse; the subject is the first DNS name even after a URI.
  CHECK(grant->names.dns == std::vector<std::string>{"app.team.mesh.example.com", "app-7f9c.pods.example.com"});
  CHECK(grant->names.uris == std::vector<std::string>{"spiffe://prod.example.com/team/app"});
  CHECK(grant->subject == "app.team.mesh.example.com");

  // An unbound token yields no {podName} names.
  reviewer.result = identity("team", "app");
  grant = p.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow);
  REQUIRE(grant);
  CHECK(grant->names.dns == std::vector<std::string>{"app.team.mesh.example.com"});

  // URI-only templates grant no subject.
  auto uri_only = make({.name = "k8s", .name_templates = {"spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccount}"}});
  grant = uri_only.authorize(fake_jwt(bound_payload("team", "app")), reviewer, kNow);
  REQUIRE(grant);
  CHECK(grant->subject.empty());
  CHECK(grant->names.dns.empty());
  CHECK(grant->names.uris == std::vector<std::string>{"spiffe://cluster.local/ns/team/sa/app"});
}

TEST_CASE("K8sSA create names the field of a bad name template", "[k8ssa]") {
  CHECK(create_error({.name = "k8s", .name_templates = {"{foo}.svc"}}).message ==
        "provisioners[2].names[0]: unknown placeholder {foo}");
  CHECK(create_error({.name = "k8s", .name_templates = {"{namespace}.svc", "{namespace.svc"}}).message ==
        "provisioners[2].names[1]: unclosed {");
  CHECK(create_error({.name = "k8s", .name_templates = {"10.0.0.1"}}).message ==
        "provisioners[2].names[0]: must produce a DNS name or a URI, not an IP address (\"10.0.0.1\")");
  CHECK(create_error({.name = "k8s", .name_templates = {"{serviceAccount}@{namespace}.example.com"}}).message ==
        "provisioners[2].names[0]: must produce a DNS name or a URI, not an email address "
        "(\"sample-sa@sample-ns.example.com\")");
  CHECK(create_error({.name = "k8s", .name_templates = {"*.{namespace}.svc"}}).message ==
        "provisioners[2].names[0]: does not produce a valid DNS name (\"*.sample-ns.svc\")");
  CHECK(create_error({.name = "k8s", .name_templates = {"{serviceAccount}_{namespace}.svc"}}).message ==
        "provisioners[2].names[0]: does not produce a valid DNS name (\"sample-sa_sample-ns.svc\")");
  CHECK(create_error({.name = "k8s", .name_templates = {"spiffe://{trustDomain}/ns/{namespace} x"}}).message ==
        "provisioners[2].names[0]: does not produce a valid URI (\"spiffe://cluster.local/ns/sample-ns x\")");
  CHECK(create_error({.name = "k8s", .name_templates = {""}}).message == "provisioners[2].names[0]: must not be empty");
  CHECK(create_error({.name = "k8s", .name_templates = {}}).message ==
        "provisioners[2].names: at least one name template is required");
}

TEST_CASE("K8sSA create validates name, audiences, trust domain, namespaces and claims", "[k8ssa]") {
  CHECK(create_error({.name = ""}).message == "provisioners[2].name: is required");
  CHECK(create_error({.name = "k8s", .audiences = {"a", ""}}).message ==
        "provisioners[2].audiences[1]: must not be empty");
  CHECK(create_error({.name = "k8s", .trust_domain = ""}).message ==
        "provisioners[2].trustDomain: \"\" is not a lower-case DNS name");
  CHECK(create_error({.name = "k8s", .trust_domain = "Cluster.Local"}).message ==
        "provisioners[2].trustDomain: \"Cluster.Local\" is not a lower-case DNS name");
  CHECK(create_error({.name = "k8s", .trust_domain = "cluster..local"}).code == Errc::invalid_argument);
  CHECK(create_error({.name = "k8s", .namespaces = {"team", "Team_B"}}).message ==
        "provisioners[2].namespaces[1]: \"Team_B\" is not a namespace name (a lower-case DNS label)");
  CHECK(create_error({.name = "k8s", .namespaces = {"a.b"}}).code == Errc::invalid_argument);

  policy::Claims bad;
  bad.default_duration = 48h;  // above max
  auto e = create_error({.name = "k8s", .claims = bad});
  CHECK(e.message.starts_with("provisioners[2].claims"));

  // Without a path, errors name the provisioner.
  auto p = K8sSaProvisioner::create({.name = "k8s", .name_templates = {"{foo}"}}, policy::Claims{});
  REQUIRE_FALSE(p);
  CHECK(p.error().message == "provisioners[k8s].names[0]: unknown placeholder {foo}");
  p = K8sSaProvisioner::create({.name = ""}, policy::Claims{});
  REQUIRE_FALSE(p);
  CHECK(p.error().message == "provisioners: a provisioner needs a name");
}

TEST_CASE("K8sSA lists itself in step's shape", "[k8ssa]") {
  auto p = make({.name = "k8s", .audiences = {"keystep"}});
  CHECK(p.name() == "k8s");
  CHECK(p.audiences() == std::vector<std::string>{"keystep"});
  CHECK(p.to_json() == json{{"type", "K8sSA"}, {"name", "k8s"}});

  policy::Claims issuer_claims;
  issuer_claims.max_duration = 48h;
  auto inherited = K8sSaProvisioner::create({.name = "k8s"}, issuer_claims);
  REQUIRE(inherited);
  CHECK(inherited->claims().max_duration == 48h);

  policy::Claims own;
  own.max_duration = 2160h;
  own.default_duration = 24h;
  auto q = make({.name = "k8s", .claims = own});
  CHECK(q.claims().max_duration == 2160h);
  CHECK(q.to_json() == json{{"type", "K8sSA"},
                            {"name", "k8s"},
                            {"claims",
                             {{"minTLSCertDuration", "5m0s"},
                              {"maxTLSCertDuration", "2160h0m0s"},
                              {"defaultTLSCertDuration", "24h0m0s"},
                              {"disableRenewal", false},
                              {"allowRenewalAfterExpiry", false}}}});
}

TEST_CASE("looks_like_service_account_token routes legacy and bound tokens only", "[k8ssa]") {
  CHECK(K8sSaProvisioner::looks_like_service_account_token({{"iss", "kubernetes/serviceaccount"}}));
  CHECK(K8sSaProvisioner::looks_like_service_account_token(bound_payload("team", "app")));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token(
      {{"iss", "admin"}, {"aud", "https://ca.internal/1.0/sign"}, {"sub", "a.internal"}}));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token({{"kubernetes.io", "team"}}));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token({{"kubernetes.io", {{"namespace", "team"}}}}));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token(
      {{"kubernetes.io", {{"namespace", 1}, {"serviceaccount", {{"name", "app"}}}}}}));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token(json::array()));
  CHECK_FALSE(K8sSaProvisioner::looks_like_service_account_token({{"iss", 7}}));
}
