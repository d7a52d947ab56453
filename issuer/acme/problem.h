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
[[nodiscard]] Problem rejected_identifier(std::string detail);  // 400; the CA will not issue for a name
[[nodiscard]] Problem unsupported_identifier(std::string detail);  // 400; an identifier type other than dns, ip
[[nodiscard]] Problem bad_csr(std::string detail);              // 400
[[nodiscard]] Problem order_not_ready(std::string detail);      // 403
[[nodiscard]] Problem bad_revocation_reason(std::string detail);  // 400
[[nodiscard]] Problem already_revoked(std::string detail);      // 400
[[nodiscard]] Problem external_account_required(std::string detail);  // 403
[[nodiscard]] Problem invalid_contact(std::string detail);      // 400
[[nodiscard]] Problem unsupported_contact(std::string detail);  // 400
[[nodiscard]] Problem bad_public_key(std::string detail);       // 400
[[nodiscard]] Problem not_found(std::string detail);            // 404, type malformed: the resource does not exist
[[nodiscard]] Problem conflict(std::string detail);             // 409, type malformed (key change to a key in use)
// Challenge failures, recorded in a challenge's "error" (RFC 8555 §8).
[[nodiscard]] Problem connection(std::string detail);           // 400; could not reach the target
[[nodiscard]] Problem dns(std::string detail);                  // 400; a DNS lookup failed
[[nodiscard]] Problem incorrect_response(std::string detail);   // 403; the target answered something else
[[nodiscard]] Problem tls(std::string detail);                  // 400; the TLS handshake failed

// kSupportedAlgorithms are the account-key algorithms accepted (ES256, RS256, EdDSA).
[[nodiscard]] const std::vector<std::string>& supported_algorithms();

}  // namespace keystep::acme
