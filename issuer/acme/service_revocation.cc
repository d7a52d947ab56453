// revokeCert (RFC 8555 §7.6) and renewalInfo (RFC 9773).
#include <openssl/evp.h>

#include "issuer/acme/renewal_info.h"
#include "issuer/acme/service.h"
#include "issuer/common/base64.h"
#include "issuer/policy/time_format.h"

namespace keystep::acme {

Service::Reply Service::revoke_cert(const Context& ctx, const Caller& caller) {
  auto payload = caller.request.payload_json();
  if (!payload) return tl::unexpected(payload.error());
  const auto& field = payload->value("certificate", nlohmann::json());
  if (!field.is_string()) return tl::unexpected(malformed("revokeCert needs certificate, base64url DER"));
  auto der = common::base64url_decode(field.get<std::string>());
  if (!der) return tl::unexpected(malformed("certificate is not base64url"));
  auto cert = crypto::Certificate::from_der(der->data(), der->size());
  if (!cert) return tl::unexpected(malformed("certificate is not a DER certificate"));
  int reason = 0;
  if (payload->contains("reason")) {
    const auto& r = (*payload)["reason"];
    if (!r.is_number_integer() || r.get<int>() < 0 || r.get<int>() > 10 || r.get<int>() == 7) {
      return tl::unexpected(bad_revocation_reason("reason must be an RFC 5280 CRLReason code from 0 to 10, except 7"));
    }
    reason = r.get<int>();
  }
  const std::string serial = cert->serial_decimal();
  auto record = store_.find_certificate(serial);
  if (!record) return tl::unexpected(store_problem(record.error()));
  if (!record->has_value() || (*record)->fingerprint != cert->sha256_hex()) {
    return tl::unexpected(unauthorized("this certificate was not issued by this CA"));
  }
  std::string actor;
  if (caller.account) {
    // The account that ordered it may revoke it.
    if ((*record)->source != "acme" || (*record)->requester != caller.account->id ||
        (*record)->provisioner != ctx.config.name) {
      return tl::unexpected(unauthorized("this account did not order this certificate; sign with the certificate's key"));
    }
    actor = "acme:" + ctx.config.name + "/" + caller.account->id;
  } else {
    if (EVP_PKEY_eq(caller.key.pkey(), cert->public_key()) != 1) {
      return tl::unexpected(unauthorized("the JWS jwk is not the certificate's public key"));
    }
    actor = "acme:" + ctx.config.name + "/certificate-key";
  }
  if (auto s = ctx.authority->record_revocation(serial, reason, "ACME revokeCert", actor, ctx.config.name); !s) {
    if (s.error().code == Errc::already_exists) return tl::unexpected(already_revoked("the certificate is already revoked"));
    if (s.error().code == Errc::not_found) return tl::unexpected(unauthorized(s.error().message));
    return tl::unexpected(store_problem(s.error()));
  }
  if (options_.crl != nullptr) options_.crl->revoked(serial);
  http::Response res;
  res.status = 200;
  return res;
}

Service::Reply Service::renewal_info(const Context&, const std::string& text) const {
  auto id = parse_cert_id(text);
  if (!id) return tl::unexpected(malformed("\"" + text + "\" is not an RFC 9773 certificate id"));
  auto record = store_.find_certificate(id->serial_decimal);
  if (!record) return tl::unexpected(store_problem(record.error()));
  std::optional<crypto::Certificate> cert;
  if (record->has_value()) {
    auto parsed = crypto::Certificate::from_pem((*record)->pem);
    if (parsed && authority_key_identifier(*parsed) == id->key_identifier) cert = std::move(*parsed);
  }
  if (!cert) return tl::unexpected(not_found("no certificate with that id was issued by this CA"));
  auto revoked = store_.find_revocation(id->serial_decimal);
  if (!revoked) return tl::unexpected(store_problem(revoked.error()));
  const auto window = suggested_window(cert->not_before(), cert->not_after(), revoked->has_value(), clock_.now());
  auto res = json_response(200, {{"suggestedWindow",
                                  {{"start", policy::format_rfc3339(window.start)},
                                   {"end", policy::format_rfc3339(window.end)}}}});
  res.set_header("Retry-After", std::to_string(options_.renewal_info_retry_after.count()));
  return res;
}

}  // namespace keystep::acme
