#pragma once
// Conversions shared by the SQL backends: times as integer unix seconds
// (sub-second precision is dropped), SANs as a JSON array of strings, and
// the checks both backends apply before writing a record.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/storage/store.h"

namespace keystep::storage {

inline constexpr std::string_view kSourceCertificateRequest = "certificaterequest";

[[nodiscard]] std::int64_t to_unix_seconds(common::TimePoint t);
[[nodiscard]] common::TimePoint from_unix_seconds(std::int64_t seconds);

[[nodiscard]] std::string sans_to_json(const std::vector<std::string>& sans);
[[nodiscard]] Result<std::vector<std::string>> sans_from_json(std::string_view json);

// check_certificate rejects a record the schema would store ambiguously: a
// certificaterequest without request id, or an empty serial.
[[nodiscard]] Status check_certificate(const CertificateRecord& record);
// check_revocation rejects an empty serial or a reason code outside RFC 5280.
[[nodiscard]] Status check_revocation(const RevocationRecord& record);

// parse_int64 reads a decimal column value.
[[nodiscard]] Result<std::int64_t> parse_int64(std::string_view text);

}  // namespace keystep::storage
