#include "issuer/http/message.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace keystep::http;

TEST_CASE("Request::header looks names up case-insensitively and returns the first", "[http]") {
  Request req;
  req.headers = {
      {"Content-Type", "application/json"}, {"x-request-id", "a"}, {"X-Request-Id", "b"}};
  CHECK(req.header("content-type") == "application/json");
  CHECK(req.header("X-REQUEST-ID") == "a");
  CHECK(req.header("Authorization").empty());
}

TEST_CASE("Request::query_param decodes values and tells present-empty from absent", "[http]") {
  Request req;
  req.query = "pem&cursor=ab%2Fc&limit=1+0&x=&bad=%zz&limit=2";
  CHECK(req.query_param("pem") == std::optional<std::string>(""));
  CHECK(req.query_param("x") == std::optional<std::string>(""));
  CHECK(req.query_param("cursor") == std::optional<std::string>("ab/c"));
  CHECK(req.query_param("limit") == std::optional<std::string>("1 0"));
  CHECK_FALSE(req.query_param("missing"));
  CHECK_FALSE(req.query_param("bad"));
}

TEST_CASE("Response::json writes Go json.Encoder output with a trailing newline", "[http]") {
  Response r = Response::json(201, {{"status", "ok"}});
  CHECK(r.status == 201);
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.body == "{\"status\":\"ok\"}\n");
}

TEST_CASE("Response::json escapes HTML characters and line separators like Go", "[http]") {
  Response r = Response::json(400, {{"message", "a<b>&c\u2028d"}});
  CHECK(r.body == "{\"message\":\"a\\u003cb\\u003e\\u0026c\\u2028d\"}\n");
}

TEST_CASE("Response::json replaces invalid UTF-8 instead of throwing", "[http]") {
  Response r = Response::json(200, {{"m", std::string("a\xff")}});
  CHECK(r.body == "{\"m\":\"a\xEF\xBF\xBD\"}\n");
}

TEST_CASE("Response::text defaults to text/plain with charset", "[http]") {
  Response r = Response::text(404, "404 page not found\n");
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.body == "404 page not found\n");
}

TEST_CASE("Response::set_header replaces every header of that name by one", "[http]") {
  Response r;
  r.headers = {{"Link", "a"}, {"X", "1"}, {"link", "b"}};
  r.set_header("LINK", "c");
  REQUIRE(r.headers.size() == 2);
  CHECK(r.header("link") == "c");
  r.set_header("New", "v");
  CHECK(r.header("new") == "v");
}

TEST_CASE("Response::error writes step-ca's error body with status first", "[http]") {
  Response r = Response::error(404, "root with fingerprint \"ab\" was not found <x>");
  CHECK(r.status == 404);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body ==
        "{\"status\":404,\"message\":\"root with fingerprint \\\"ab\\\" was not found "
        "\\u003cx\\u003e\"}\n");
}
