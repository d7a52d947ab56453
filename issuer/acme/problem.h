#pragma once
// Problem is an ACME error (RFC 8555 §6.7): an RFC 7807 problem document
// whose type is urn:ietf:params:acme:error:<type>, with the HTTP status the
// RFC gives it. Every ACME failure is answered as one, with
// Content-Type application/problem+json.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace keystep::acme {

inline constexpr char kProblemContentType[] = "application/problem+json";
inline constexpr char kErrorNamespace[] = "urn:ietf:params:acme:error:";

struct Problem {
  std::string type;    // without the namespace: "badNonce", "malformed", ...
  std::string detail;  // for the client's user; never holds key material
  int status = 400;
  std::vector<Problem> subproblems;  // per identifier (rejectedIdentifier, ...)
  nlohmann::json identifier;         // a subproblem's {"type":"dns","value":"..."}, or null

  [[nodiscard]] nlohmann::json to_json() const;
};

// The ACME error types Keystep sends, with their RFC 8555 statuses.
[[nodiscard]] Problem malformed(std::string detail);            // 400
[[nodiscard]] Problem bad_nonce(std::string detail);            // 400; the client retries with the new nonce
[[nodiscard]] Problem bad_signature_algorithm(std::string detail);  // 400; carries "algorithms"
[[nodiscard]] Problem unauthorized(std::string detail);         // 403
[[nodiscard]] Problem account_does_not_exist(std::string detail);  // 400
[[nodiscard]] Problem server_internal(std::string detail);      // 500

// kSupportedAlgorithms are the account-key algorithms accepted (ES256, RS256, EdDSA).
[[nodiscard]] const std::vector<std::string>& supported_algorithms();

}  // namespace keystep::acme
