#include "issuer/acme/signed_request.h"

#include <algorithm>

namespace keystep::acme {
namespace {

tl::unexpected<Problem> refuse(Problem p) { return tl::unexpected(std::move(p)); }

bool is_b64url(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

// parse_flattened reads a flattened JSON JWS {protected, payload, signature}.
tl::expected<jose::Jws, Problem> parse_flattened(const nlohmann::json& outer) {
  if (outer.is_discarded() || !outer.is_object()) return refuse(malformed("the JWS is not a JSON object"));
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
  return std::move(*jws);
}

tl::expected<jose::Jwk, Problem> embedded_key(const nlohmann::json& header) {
  const auto& jwk = header["jwk"];
  if (!jwk.is_object() || jwk.contains("d")) return refuse(malformed("the JWS jwk must be a public key"));
  auto key = jose::Jwk::from_json(jwk);
  if (!key) return refuse(malformed("the JWS jwk is invalid: " + key.error().message));
  return std::move(*key);
}

}  // namespace

tl::expected<InnerJws, Problem> parse_inner_jws(const nlohmann::json& flattened, std::string_view outer_url,
                                                bool want_jwk) {
  auto jws = parse_flattened(flattened);
  if (!jws) return refuse(malformed("inner JWS: " + jws.error().detail));
  InnerJws out{std::move(*jws), std::nullopt};
  const auto& header = out.jws.header;
  auto url = header.find("url");
  if (url == header.end() || !url->is_string() || url->get<std::string>() != outer_url) {
    return refuse(unauthorized("the inner JWS url must be the outer JWS url"));
  }
  if (want_jwk) {
    const std::string alg = out.jws.alg();
    const auto& algorithms = supported_algorithms();
    if (std::find(algorithms.begin(), algorithms.end(), alg) == algorithms.end()) {
      return refuse(bad_signature_algorithm("the inner JWS algorithm \"" + alg + "\" is not supported"));
    }
    if (!header.contains("jwk") || header.contains("kid")) return refuse(malformed("the inner JWS must carry a jwk"));
    if (header.contains("nonce")) return refuse(malformed("the inner JWS must not carry a nonce"));
    auto key = embedded_key(header);
    if (!key) return tl::unexpected(key.error());
    out.jwk = std::move(*key);
  }
  return out;
}

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
  auto jws = parse_flattened(outer);
  if (!jws) return tl::unexpected(jws.error());
  SignedRequest out;
  out.jws = std::move(*jws);
  if (out.jws.payload.size() > kMaxRequestBytes) return refuse(malformed("the JWS payload is too large"));
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
    auto key = embedded_key(header);
    if (!key) return tl::unexpected(key.error());
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
