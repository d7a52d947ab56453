#pragma once
// CertificateSummary is what `keystep certificate inspect` shows of a
// certificate, as text for people and as JSON for scripts (same fields).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "issuer/crypto/certificate.h"

namespace keystep::cli {

struct CertificateSummary {
  std::string subject;  // RFC 2253
  std::string issuer;
  std::string serial_hex;  // lowercase, no prefix
  std::string serial_decimal;
  std::string not_before;  // RFC 3339
  std::string not_after;
  std::string public_key;  // "EC P-256", "RSA 2048", "Ed25519"
  bool is_ca = false;
  long path_length = -1;                        // -1: no limit (or not a CA)
  std::vector<std::string> key_usage;           // "Digital Signature", ...; empty: no extension
  std::vector<std::string> extended_key_usage;  // "Server Authentication", ... or a dotted OID
  crypto::SubjectAltNames sans;
  std::string subject_key_id;    // lowercase hex; "" when absent
  std::string authority_key_id;  // lowercase hex; "" when absent
  std::string sha256_fingerprint;
};

[[nodiscard]] CertificateSummary summarize(const crypto::Certificate& cert);

// to_text: one "Label: value" line per field, empty fields left out.
[[nodiscard]] std::string to_text(const CertificateSummary& summary);

// to_json: {"subject","issuer","serial":{"hex","decimal"},"validity":{"not_before","not_after"},
// "public_key","is_ca","path_length" (null: no limit),"key_usage","extended_key_usage",
// "sans":{"dns","ip","email","uri"},"subject_key_id","authority_key_id","sha256_fingerprint"}.
[[nodiscard]] nlohmann::json to_json(const CertificateSummary& summary);

}  // namespace keystep::cli
