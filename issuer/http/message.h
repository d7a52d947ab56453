#pragma once
// Request and Response are the plain values exchanged between the HTTP
// server and its handlers: no Beast or Asio types leak through them, so the
// api/ code compiles without the networking headers.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace keystep::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// find_header returns the first value of the header called name (ASCII
// case-insensitive), or nullptr.
[[nodiscard]] const std::string* find_header(const HeaderList& headers, std::string_view name);

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // raw request-target: "/root/ab%20cd?x=1"
  std::string path;    // percent-decoded path without the query: "/root/ab cd"
  std::string query;   // raw query without '?': "x=1"
  HeaderList headers;  // in arrival order, names as sent
  std::string body;
  std::map<std::string, std::string> params;  // route parameters, filled by Router
  std::string route;  // the matched route pattern, set by Router ("" if none)
  // The TLS client's certificate chain as DER, leaf first, when it presented
  // one (which then verified, or the handshake would have failed); empty
  // otherwise.
  std::vector<std::string> peer_chain_der;
  bool peer_verified = false;
  std::string remote_address;  // "203.0.113.7:51234", "[::1]:51234"
  bool is_tls = false;
  // X-Request-Id, else X-Smallstep-Id, else a fresh UUIDv4; echoed in the
  // response.
  std::string request_id;

  // header returns the first value of the named header (case-insensitive),
  // or "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
  // query_param returns the first decoded value of a query parameter ("+"
  // is a space, as in Go's url.ParseQuery); "" when present without a value
  // ("?pem"), nullopt when absent or badly escaped.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;

  // json answers with Content-Type application/json and the body written as
  // Go's json.Encoder does: compact, HTML characters escaped, trailing "\n".
  [[nodiscard]] static Response json(int status, const nlohmann::json& body);
  // error answers with step-ca's error body in Go's field order:
  // {"status":413,"message":"..."}.
  [[nodiscard]] static Response error(int status, std::string_view message);
  [[nodiscard]] static Response text(int status, std::string body,
                                     std::string content_type = "text/plain; charset=utf-8");

  // set_header replaces every header called name (case-insensitive) by one.
  void set_header(std::string_view name, std::string value);
  // header returns the first value of the named header, or "" when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

// iequals compares two header names ignoring ASCII case.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace keystep::http
