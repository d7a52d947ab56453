#include "issuer/acme/problem.h"

namespace keystep::acme {

nlohmann::json Problem::to_json() const {
  nlohmann::json out = {{"type", kErrorNamespace + type}, {"detail", detail}};
  if (!identifier.is_null()) out["identifier"] = identifier;
  if (status != 0 && identifier.is_null()) out["status"] = status;
  if (type == "badSignatureAlgorithm") out["algorithms"] = supported_algorithms();
  if (!subproblems.empty()) {
    out["subproblems"] = nlohmann::json::array();
    for (const auto& p : subproblems) out["subproblems"].push_back(p.to_json());
  }
  return out;
}

const std::vector<std::string>& supported_algorithms() {
  static const std::vector<std::string> algorithms = {"ES256", "RS256", "EdDSA"};
  return algorithms;
}

Problem malformed(std::string detail) { return {"malformed", std::move(detail), 400, {}, nullptr}; }
Problem bad_nonce(std::string detail) { return {"badNonce", std::move(detail), 400, {}, nullptr}; }
Problem bad_signature_algorithm(std::string detail) {
  return {"badSignatureAlgorithm", std::move(detail), 400, {}, nullptr};
}
Problem unauthorized(std::string detail) { return {"unauthorized", std::move(detail), 403, {}, nullptr}; }
Problem account_does_not_exist(std::string detail) {
  return {"accountDoesNotExist", std::move(detail), 400, {}, nullptr};
}
Problem server_internal(std::string detail) { return {"serverInternal", std::move(detail), 500, {}, nullptr}; }

Problem rejected_identifier(std::string detail) { return {"rejectedIdentifier", std::move(detail), 400, {}, nullptr}; }
Problem unsupported_identifier(std::string detail) {
  return {"unsupportedIdentifier", std::move(detail), 400, {}, nullptr};
}
Problem bad_csr(std::string detail) { return {"badCSR", std::move(detail), 400, {}, nullptr}; }
Problem order_not_ready(std::string detail) { return {"orderNotReady", std::move(detail), 403, {}, nullptr}; }
Problem bad_revocation_reason(std::string detail) {
  return {"badRevocationReason", std::move(detail), 400, {}, nullptr};
}
Problem already_revoked(std::string detail) { return {"alreadyRevoked", std::move(detail), 400, {}, nullptr}; }
Problem external_account_required(std::string detail) {
  return {"externalAccountRequired", std::move(detail), 403, {}, nullptr};
}
Problem invalid_contact(std::string detail) { return {"invalidContact", std::move(detail), 400, {}, nullptr}; }
Problem unsupported_contact(std::string detail) { return {"unsupportedContact", std::move(detail), 400, {}, nullptr}; }
Problem bad_public_key(std::string detail) { return {"badPublicKey", std::move(detail), 400, {}, nullptr}; }
Problem not_found(std::string detail) { return {"malformed", std::move(detail), 404, {}, nullptr}; }
Problem conflict(std::string detail) { return {"malformed", std::move(detail), 409, {}, nullptr}; }
Problem connection(std::string detail) { return {"connection", std::move(detail), 400, {}, nullptr}; }
Problem dns(std::string detail) { return {"dns", std::move(detail), 400, {}, nullptr}; }
Problem incorrect_response(std::string detail) { return {"incorrectResponse", std::move(detail), 403, {}, nullptr}; }
Problem tls(std::string detail) { return {"tls", std::move(detail), 400, {}, nullptr}; }

}  // namespace keystep::acme
