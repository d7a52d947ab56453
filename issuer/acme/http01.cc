// http-01 (RFC 8555 §8.3): GET the token over plain HTTP, follow redirects,
// compare the body with the key authorization.

#include <openssl/crypto.h>

#include <algorithm>

#include "issuer/acme/challenge_checks.h"
#include "issuer/http/client.h"
#include "issuer/http/url.h"

namespace keystep::acme::detail {
namespace {

using Clock = std::chrono::steady_clock;

// kMaxBodyBytes bounds the body we accept. http::request itself reads up
// to http::kMaxClientResponseBytes before we can look at it.
constexpr std::size_t kMaxBodyBytes = std::size_t{64} << 10;
constexpr int kMaxRedirects = 10;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_base64url(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string_view trim_trailing_whitespace(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// resolve_location resolves a Location value against the URL that sent it
// (RFC 3986 §5.2). Dot segments are sent as written: the target's server
// interprets its own paths. The result still has to pass parse_url.
std::string resolve_location(const http::Url& base, std::string_view location) {
  const auto scheme_end = location.find_first_of(":/?#");
  if (scheme_end != std::string_view::npos && scheme_end > 0 && location[scheme_end] == ':') {
    return std::string(location);  // absolute: any scheme, parse_url keeps http and https
  }
  if (location.substr(0, 2) == "//") return base.scheme + ":" + std::string(location);
  const std::string origin = base.scheme + "://" + base.authority();
  const std::string path = base.target.substr(0, base.target.find('?'));
  if (location.empty() || location[0] == '#') return origin + base.target;
  if (location[0] == '/') return origin + std::string(location);
  if (location[0] == '?') return origin + path + std::string(location);
  return origin + path.substr(0, path.rfind('/') + 1) + std::string(location);
}

// fetch_problem turns an http::request failure into the challenge's error.
Problem fetch_problem(const std::string& url, const Error& error) {
  const std::string detail = "fetching " + url + ": " + error.message;
  switch (error.code) {
    case Errc::unavailable:
      return connection(detail);
    case Errc::permission_denied:
      return tls(detail);
    case Errc::invalid_argument:
      return malformed(detail);
    default:
      return server_internal(detail);
  }
}

}  // namespace

std::optional<Problem> check_http01(const ValidationOptions& options,
                                    const ChallengeTarget& target) {
  if (target.token.empty() || !is_base64url(target.token)) {
    return malformed("http-01 token " + quote(target.token) + " is not base64url");
  }
  const Deadline deadline = Clock::now() + options.timeout;
  std::string url = "http://" + host_port(target.identifier, options.http01_port) +
                    "/.well-known/acme-challenge/" + target.token;
  auto parsed = http::parse_url(url);
  if (!parsed) return malformed("cannot fetch " + url + ": " + parsed.error().message);

  http::ClientOptions client;
  client.insecure = true;  // https after a redirect is not verified (RFC 8555 §8.3)
  client.user_agent = "keystep-acme-validator";
  for (int redirects = 0;; ++redirects) {
    const auto remaining = std::chrono::ceil<std::chrono::seconds>(deadline - Clock::now());
    if (remaining <= std::chrono::seconds::zero()) {
      return connection("fetching " + url + ": timed out after " + seconds_text(options.timeout));
    }
    client.timeout = remaining;
    auto response = http::request(client, "GET", url, "", {{"Accept", "*/*"}});
    if (!response) return fetch_problem(url, response.error());

    const std::string status = std::to_string(response->status);
    if (is_redirect(response->status)) {
      if (redirects == kMaxRedirects) {
        return connection("fetching " + url + ": too many redirects (more than " +
                          std::to_string(kMaxRedirects) + ")");
      }
      const std::string location = response->header("Location");
      if (location.empty()) {
        return incorrect_response(url + " returned HTTP " + status + " without a Location");
      }
      std::string next = resolve_location(*parsed, location);
      auto next_url = http::parse_url(next);
      if (!next_url) {
        return connection(url + " redirected to " + quote(location) +
                          ", which is not an http or https URL");
      }
      url = std::move(next);
      parsed = std::move(next_url);
      continue;
    }
    if (response->status != 200) {
      return incorrect_response(url + " returned HTTP " + status + ", expected 200");
    }
    if (response->body.size() > kMaxBodyBytes) {
      return incorrect_response(url + " returned a body larger than 64 KiB");
    }
    const std::string_view body = trim_trailing_whitespace(response->body);
    const std::string& expected = target.key_authorization;
    if (body.size() != expected.size() ||
        CRYPTO_memcmp(body.data(), expected.data(), expected.size()) != 0) {
      const bool is_cut = body.size() > kDetailExcerptChars;
      return incorrect_response(
          url + " returned " + quote(body) +
          (is_cut ? " (first " + std::to_string(kDetailExcerptChars) + " chars)" : "") +
          ", expected the key authorization");
    }
    return std::nullopt;
  }
}

}  // namespace keystep::acme::detail
