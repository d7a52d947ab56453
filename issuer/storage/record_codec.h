#pragma once
// Conversions shared by the SQL backends: times as integer unix seconds
// (sub-second precision is dropped), SANs as a JSON array of strings, ACME
// kinds as names, and the checks both backends apply before writing a record.

#include <cstddef>
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

// acme_kind_name is the kind as the acme_objects.kind column spells it:
// "account", "order", "authorization", "eab_binding".
[[nodiscard]] std::string_view acme_kind_name(AcmeKind kind);
// parse_acme_kind reads acme_objects.kind back; internal for an unknown name.
[[nodiscard]] Result<AcmeKind> parse_acme_kind(std::string_view name);
// describe_acme_object names an object in messages: "acme order <id>".
[[nodiscard]] std::string describe_acme_object(AcmeKind kind, std::string_view id);
// kMaxAcmeObjectsPerInsert bounds one insert_acme_objects call (an order
// and its authorizations), well inside PostgreSQL's 65535 parameters.
inline constexpr std::size_t kMaxAcmeObjectsPerInsert = 1000;
// check_acme_objects rejects an insert of more than kMaxAcmeObjectsPerInsert
// objects, or of an object without id or of an unknown kind.
[[nodiscard]] Status check_acme_objects(const std::vector<AcmeObject>& objects);

// parse_int64 reads a decimal column value.
[[nodiscard]] Result<std::int64_t> parse_int64(std::string_view text);

}  // namespace keystep::storage
