#pragma once
// load_ca_secret turns a CA Secret — the one `keystep init` writes:
// tls.crt (the intermediate, then any further intermediates), tls.key (its
// key, unencrypted PEM), ca.crt (the root or roots) — into a signing
// CertificateAuthority, with the same checks as the standalone server
// (signing::CertificateAuthority::load). Errors name the key of the Secret
// and never include its data: failed_precondition for a missing key,
// invalid_argument for content that does not load.

#include <memory>

#include <nlohmann/json.hpp>

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/signing/certificate_authority.h"

namespace keystep::controllers {

[[nodiscard]] Result<std::shared_ptr<const signing::CertificateAuthority>> load_ca_secret(const nlohmann::json& secret,
                                                                                          common::TimePoint now);

}  // namespace keystep::controllers
