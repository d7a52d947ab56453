#include "issuer/acme/signed_request.h"

#include <algorithm>

namespace keystep::acme {
namespace {

tl::unexpected<Problem> refuse(Problem p) { return tl::unexpected(std::move(p)); }

bool is_b64url(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

tl::expected<nlohmann::json, Problem> SignedRequest::payload_json() const {
  if (post_as_get()) return refuse(malformed("the request has no payload"));
  auto parsed = nlohmann::json::parse(jws.payload, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return refuse(malformed("the JWS payload is not a JSON object"));
  return parsed;
}

tl::expected<SignedRequest, Problem> parse_signed_request(std::string_view body, std::string_view request_url,
                                                          KeyReference expected) {
  if (body.size() > kMaxRequestBytes) return refuse(malformed("the request body is larger than 64 KiB"));
  auto outer = nlohmann::json::parse(body, nullptr, false);
  if (outer.is_discarded() || !outer.is_object()) return refuse(malformed("the request body is not a JSON object"));
  for (const auto& [key, value] : outer.items()) {
    if (key != "protected" && key != "payload" && key != "signature") {
      return refuse(malformed("the JWS has member \"" + key +
                              "\": only flattened JSON with protected, payload and signature is accepted"));
    }
    if (!value.is_string() || !is_b64url(value.get<std::string>())) {
      return refuse(malformed("the JWS member \"" + key + "\" is not a base64url string"));
    }
  }
  for (const char* member : {"protected", "payload", "signature"}) {
    if (!outer.contains(member)) return refuse(malformed(std::string("the JWS has no \"") + member + "\""));
  }
  const std::string compact = outer["protected"].get<std::string>() + "." + outer["payload"].get<std::string>() + "." +
                              outer["signature"].get<std::string>();
  auto jws = jose::parse_compact(compact);
  if (!jws) return refuse(malformed("invalid JWS: " + jws.error().message));

  SignedRequest out;
  out.jws = std::move(*jws);
  const auto& header = out.jws.header;
  const std::string alg = out.jws.alg();
  const auto& algorithms = supported_algorithms();
  if (std::find(algorithms.begin(), algorithms.end(), alg) == algorithms.end()) {
    return refuse(bad_signature_algorithm("the JWS algorithm \"" + alg + "\" is not supported"));
  }
  const bool has_jwk = header.contains("jwk");
  const bool has_kid = header.contains("kid");
  if (has_jwk == has_kid) return refuse(malformed("the JWS header must carry exactly one of jwk and kid"));
  if (expected == KeyReference::jwk && !has_jwk) {
    return refuse(malformed("this resource takes a JWS signed with an embedded jwk, not a kid"));
  }
  if (expected == KeyReference::kid && !has_kid) {
    return refuse(malformed("this resource takes a JWS signed by an account (kid), not an embedded jwk"));
  }
  if (has_jwk) {
    const auto& jwk = header["jwk"];
    if (!jwk.is_object() || jwk.contains("d")) return refuse(malformed("the JWS jwk must be a public key"));
    auto key = jose::Jwk::from_json(jwk);
    if (!key) return refuse(malformed("the JWS jwk is invalid: " + key.error().message));
    out.jwk = std::move(*key);
  } else {
    if (!header["kid"].is_string() || header["kid"].get<std::string>().empty()) {
      return refuse(malformed("the JWS kid must be an account URL"));
    }
    out.kid = header["kid"].get<std::string>();
  }
  auto url = header.find("url");
  if (url == header.end() || !url->is_string()) return refuse(malformed("the JWS header has no url"));
  out.url = url->get<std::string>();
  if (out.url != request_url) {
    return refuse(unauthorized("the JWS url \"" + out.url + "\" is not the URL the request was sent to"));
  }
  auto nonce = header.find("nonce");
  if (nonce == header.end() || !nonce->is_string() || nonce->get<std::string>().empty()) {
    return refuse(bad_nonce("the JWS header has no nonce"));
  }
  out.nonce = nonce->get<std::string>();
  if (!is_b64url(out.nonce)) return refuse(bad_nonce("the JWS nonce is not base64url"));
  return out;
}

std::optional<Problem> verify_signature(const SignedRequest& request, const jose::Jwk& key) {
  if (auto s = jose::verify(request.jws, key); !s) {
    return malformed("the JWS signature does not verify: " + s.error().message);
  }
  return std::nullopt;
}

}  // namespace keystep::acme
