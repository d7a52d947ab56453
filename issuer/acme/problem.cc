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

}  // namespace keystep::acme
