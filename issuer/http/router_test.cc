#include "issuer/http/router.h"

#include <stdexcept>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace keystep::http;

namespace {

Request make(std::string method, std::string path) {
  Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

Handler says(std::string what) {
  return [what](const Request& req) {
    std::string body = what;
    for (const auto& [k, v] : req.params) body += " " + k + "=" + v;
    return Response::text(200, body);
  };
}

}  // namespace

TEST_CASE("Router matches literal paths exactly", "[http]") {
  Router r;
  r.add("GET", "/roots", says("roots"));
  r.add("GET", "/", says("index"));
  Request req = make("GET", "/roots");
  CHECK(r.dispatch(req).body == "roots");
  req = make("GET", "/");
  CHECK(r.dispatch(req).body == "index");
  req = make("GET", "/roots/");
  CHECK(r.dispatch(req).status == 404);
  req = make("GET", "/roots/x");
  CHECK(r.dispatch(req).status == 404);
}

TEST_CASE("Router fills named parameters", "[http]") {
  Router r;
  r.add("GET", "/root/{sha}", says("root"));
  r.add("POST", "/acme/{provisioner}/order/{id}", says("order"));
  Request req = make("GET", "/root/abc123");
  CHECK(r.dispatch(req).body == "root sha=abc123");
  req = make("POST", "/acme/my-acme/order/o1");
  CHECK(r.dispatch(req).body == "order id=o1 provisioner=my-acme");
  CHECK(req.params.at("provisioner") == "my-acme");
}

TEST_CASE("Router parameters never match an empty segment", "[http]") {
  Router r;
  r.add("GET", "/root/{sha}", says("root"));
  Request req = make("GET", "/root/");
  CHECK(r.dispatch(req).status == 404);
}

TEST_CASE("Router prefers a literal segment and falls back to a parameter", "[http]") {
  Router r;
  r.add("GET", "/acme/{provisioner}/directory", says("directory"));
  r.add("GET", "/acme/new/thing", says("literal"));
  Request req = make("GET", "/acme/new/thing");
  CHECK(r.dispatch(req).body == "literal");
  req = make("GET", "/acme/new/directory");
  CHECK(r.dispatch(req).body == "directory provisioner=new");
}

TEST_CASE("Router answers an unknown path with Go's 404 text", "[http]") {
  Router r;
  r.add("GET", "/health", says("ok"));
  Request req = make("GET", "/nope");
  Response res = r.dispatch(req);
  CHECK(res.status == 404);
  CHECK(res.body == "404 page not found\n");
  CHECK(res.header("Content-Type") == "text/plain; charset=utf-8");
}

TEST_CASE("Router answers a known path with another method with 405 and Allow", "[http]") {
  Router r;
  r.add("GET", "/health", says("ok"));
  r.add("POST", "/health", says("post"));
  Request req = make("DELETE", "/health");
  Response res = r.dispatch(req);
  CHECK(res.status == 405);
  CHECK(res.header("Allow") == "GET, HEAD, POST");
}

TEST_CASE("Router serves HEAD with the GET handler, dropping the body but not its length",
          "[http]") {
  Router r;
  r.add("GET", "/health", [](const Request&) { return Response::json(200, {{"status", "ok"}}); });
  Request req = make("HEAD", "/health");
  Response res = r.dispatch(req);
  CHECK(res.status == 200);
  CHECK(res.body.empty());
  CHECK(res.header("Content-Length") == "16");
  CHECK(res.header("Content-Type") == "application/json");
  req = make("HEAD", "/missing");
  Response missing = r.dispatch(req);
  CHECK(missing.status == 404);
  CHECK(missing.body.empty());
}

TEST_CASE("Router rejects duplicate routes and malformed patterns at add()", "[http]") {
  Router r;
  r.add("GET", "/x/{id}", says("x"));
  CHECK_THROWS_AS(r.add("GET", "/x/{id}", says("again")), std::invalid_argument);
  CHECK_THROWS_AS(r.add("POST", "/x/{name}", says("renamed")), std::invalid_argument);
  CHECK_THROWS_AS(r.add("GET", "relative", says("bad")), std::invalid_argument);
  CHECK_THROWS_AS(r.add("GET", "/a{b}", says("bad")), std::invalid_argument);
  CHECK_NOTHROW(r.add("POST", "/x/{id}", says("post")));
}

TEST_CASE("Router lets handler exceptions propagate to the server", "[http]") {
  Router r;
  r.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("boom"); });
  Request req = make("GET", "/boom");
  CHECK_THROWS_AS(r.dispatch(req), std::runtime_error);
}

TEST_CASE("Router tells the observer the matched route pattern and the response", "[http]") {
  keystep::http::Router router;
  router.add("GET", "/root/{sha}", [](const keystep::http::Request&) {
    return keystep::http::Response::text(200, "ok");
  });
  std::vector<std::pair<std::string, int>> seen;
  router.set_observer([&](const keystep::http::Request& req, const keystep::http::Response& res) {
    seen.emplace_back(req.route, res.status);
  });
  keystep::http::Request hit;
  hit.method = "GET";
  hit.path = "/root/abc";
  (void)router.dispatch(hit);
  keystep::http::Request miss;
  miss.method = "GET";
  miss.path = "/nowhere";
  (void)router.dispatch(miss);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::pair<std::string, int>{"/root/{sha}", 200});
  CHECK(seen[1] == std::pair<std::string, int>{"", 404});
}

TEST_CASE("Router {name...} captures the rest of the path, slashes included", "[http]") {
  keystep::http::Router router;
  router.add("GET", "/ocsp/{request...}", [](const keystep::http::Request& req) {
    return keystep::http::Response::text(200, req.params.at("request"));
  });
  router.add("GET", "/ocsp/fixed", [](const keystep::http::Request&) {
    return keystep::http::Response::text(200, "fixed");
  });
  keystep::http::Request req;
  req.method = "GET";
  req.path = "/ocsp/MEow/AB+c==";
  CHECK(router.dispatch(req).body == "MEow/AB+c==");
  req.path = "/ocsp/fixed";
  CHECK(router.dispatch(req).body == "fixed");
  req.path = "/ocsp/";
  CHECK(router.dispatch(req).status == 404);
  CHECK_THROWS_AS(router.add("GET", "/a/{x...}/b", [](const keystep::http::Request&) {
    return keystep::http::Response::text(200, "");
  }), std::invalid_argument);
}
