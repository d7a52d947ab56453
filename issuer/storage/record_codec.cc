#include "issuer/storage/record_codec.h"

#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>

namespace keystep::storage {

std::int64_t to_unix_seconds(common::TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

common::TimePoint from_unix_seconds(std::int64_t seconds) {
  return common::TimePoint(std::chrono::seconds(seconds));
}

std::string sans_to_json(const std::vector<std::string>& sans) { return nlohmann::json(sans).dump(); }

Result<std::vector<std::string>> sans_from_json(std::string_view json) {
  try {
    auto parsed = nlohmann::json::parse(json);
    if (!parsed.is_array()) return fail(Errc::internal, "certificates.sans is not a JSON array");
    return parsed.get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::internal, std::string("certificates.sans: ") + e.what());
  }
}

Status check_certificate(const CertificateRecord& record) {
  if (record.serial.empty()) return fail(Errc::invalid_argument, "certificate serial is empty");
  if (record.source == kSourceCertificateRequest && record.request_id.empty()) {
    return fail(Errc::invalid_argument, "certificate from a certificaterequest needs its request id");
  }
  return ok();
}

Status check_revocation(const RevocationRecord& record) {
  if (record.serial.empty()) return fail(Errc::invalid_argument, "revocation serial is empty");
  if (record.reason_code < 0 || record.reason_code > 10 || record.reason_code == 7) {
    return fail(Errc::invalid_argument,
                "revocation reason code " + std::to_string(record.reason_code) + " is not an RFC 5280 CRLReason");
  }
  return ok();
}

namespace {

constexpr std::pair<AcmeKind, std::string_view> kAcmeKindNames[] = {
    {AcmeKind::account, "account"},
    {AcmeKind::order, "order"},
    {AcmeKind::authorization, "authorization"},
    {AcmeKind::eab_binding, "eab_binding"},
};

}  // namespace

std::string_view acme_kind_name(AcmeKind kind) {
  for (const auto& [k, name] : kAcmeKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

Result<AcmeKind> parse_acme_kind(std::string_view name) {
  for (const auto& [kind, n] : kAcmeKindNames) {
    if (n == name) return kind;
  }
  return fail(Errc::internal, "acme_objects.kind: unknown kind \"" + std::string(name) + "\"");
}

std::string describe_acme_object(AcmeKind kind, std::string_view id) {
  return "acme " + std::string(acme_kind_name(kind)) + " " + std::string(id);
}

Status check_acme_objects(const std::vector<AcmeObject>& objects) {
  if (objects.size() > kMaxAcmeObjectsPerInsert) {
    return fail(Errc::invalid_argument, "more than " + std::to_string(kMaxAcmeObjectsPerInsert) +
                                            " acme objects in one insert");
  }
  for (const AcmeObject& o : objects) {
    if (acme_kind_name(o.kind) == "unknown") {
      return fail(Errc::invalid_argument,
                  "acme object kind " + std::to_string(static_cast<int>(o.kind)) + " is unknown");
    }
    if (o.id.empty()) {
      return fail(Errc::invalid_argument, "acme " + std::string(acme_kind_name(o.kind)) + " id is empty");
    }
  }
  return ok();
}

Result<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail(Errc::internal, "database returned a non-integer where an integer was expected");
  }
  return value;
}

}  // namespace keystep::storage
