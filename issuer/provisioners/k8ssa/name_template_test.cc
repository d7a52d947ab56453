#include "issuer/provisioners/k8ssa/name_template.h"

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::provisioners;

namespace {
const NameTemplateValues kValues{"app", "team", "cluster.local", "app-7f9c"};
}

TEST_CASE("expand_name_template substitutes every known placeholder", "[k8ssa]") {
  CHECK(**expand_name_template("{serviceAccount}.{namespace}.svc", kValues) == "app.team.svc");
  CHECK(**expand_name_template("spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccount}", kValues) ==
        "spiffe://cluster.local/ns/team/sa/app");
  CHECK(**expand_name_template("{podName}.pods.internal", kValues) == "app-7f9c.pods.internal");
  CHECK(**expand_name_template("static.example.com", kValues) == "static.example.com");
}

TEST_CASE("expand_name_template yields no name when a used value is empty", "[k8ssa]") {
  NameTemplateValues unbound = kValues;
  unbound.pod_name = "";
  auto r = expand_name_template("{podName}.pods.internal", unbound);
  REQUIRE(r);
  CHECK_FALSE(r->has_value());
  CHECK(**expand_name_template("{serviceAccount}.{namespace}.svc", unbound) == "app.team.svc");
}

TEST_CASE("expand_name_template rejects unknown placeholders and stray braces", "[k8ssa]") {
  CHECK(expand_name_template("{foo}.svc", kValues).error().message == "unknown placeholder {foo}");
  CHECK(expand_name_template("{ServiceAccount}.svc", kValues).error().message == "unknown placeholder {ServiceAccount}");
  CHECK(expand_name_template("{}.svc", kValues).error().message == "unknown placeholder {}");
  CHECK(expand_name_template("{namespace.svc", kValues).error().message == "unclosed {");
  CHECK(expand_name_template("{{namespace}}.svc", kValues).error().message == "unclosed {");
  CHECK(expand_name_template("namespace}.svc", kValues).error().message == "unexpected }");
  CHECK(expand_name_template("{namespace}.svc", kValues).value().value() == "team.svc");
}
