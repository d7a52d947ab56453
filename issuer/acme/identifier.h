#pragma once
// Identifier is an ACME identifier (RFC 8555 §9.7.7): a DNS name (RFC 8555)
// or an IP address (RFC 8738). parse_identifiers reads and normalizes the
// "identifiers" of a newOrder: names are lowercased and must be valid
// hostnames, "*." wildcards allowed in front of a DNS name only; IP
// addresses are written in canonical form. check_csr compares a finalize
// CSR with the order: its DNS names (SANs and a DNS-like common name) and
// IP addresses must be exactly the order's identifiers, and it may name
// nothing else. Pure functions.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "issuer/acme/problem.h"
#include "issuer/crypto/csr.h"

namespace keystep::acme {

struct Identifier {
  std::string type;   // "dns" or "ip"
  std::string value;  // "a.example", "*.a.example", "10.0.0.1", "2001:db8::1"

  [[nodiscard]] bool is_wildcard() const { return type == "dns" && value.rfind("*.", 0) == 0; }
  // authorized_value is what an authorization proves: the name without "*.".
  [[nodiscard]] std::string authorized_value() const { return is_wildcard() ? value.substr(2) : value; }
  [[nodiscard]] nlohmann::json to_json() const { return {{"type", type}, {"value", value}}; }
  bool operator==(const Identifier&) const = default;
};

inline constexpr std::size_t kMaxIdentifiers = 100;

// parse_identifiers reads a JSON array of {type, value}: at least one, at
// most kMaxIdentifiers, duplicates dropped, sorted. malformed for a bad
// shape, unsupportedIdentifier for another type, rejectedIdentifier for a
// value that is not a hostname or address (with one subproblem each).
[[nodiscard]] tl::expected<std::vector<Identifier>, Problem> parse_identifiers(const nlohmann::json& list);
// parse_identifier reads one {type, value} (a revoke or a stored document).
[[nodiscard]] tl::expected<Identifier, Problem> parse_identifier(const nlohmann::json& item);

// check_csr: nullopt when the CSR names exactly the identifiers; else badCSR.
[[nodiscard]] std::optional<Problem> check_csr(const crypto::Csr& csr, const std::vector<Identifier>& identifiers);

// canonical_ip writes an IPv4 or IPv6 address in canonical form; nullopt if it is none.
[[nodiscard]] std::optional<std::string> canonical_ip(std::string_view text);

}  // namespace keystep::acme
