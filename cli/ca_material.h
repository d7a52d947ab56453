#pragma once
// Helpers shared by the ceremony commands (init, ca sign-intermediate):
// CA lifetimes with a "y" unit, name-constraint flags, and signing an
// intermediate CA certificate for a public key.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/certificate_builder.h"

namespace keystep::cli {

// parse_ca_lifetime reads "10y", "5y", "8760h", "365d".
[[nodiscard]] Result<std::chrono::seconds> parse_ca_lifetime(const std::string& flag, const std::string& text);

// name_constraint_flags are --permit-dns/--exclude-dns/--permit-ip/... .
[[nodiscard]] std::vector<FlagSpec> name_constraint_flags();
[[nodiscard]] crypto::NameConstraints name_constraints_from(const Args& args);

struct IntermediateSpec {
  const X509_NAME* subject = nullptr;  // borrowed
  EVP_PKEY* public_key = nullptr;      // borrowed
  common::TimePoint not_before;
  common::TimePoint not_after;
  crypto::NameConstraints constraints;
};

// sign_intermediate issues a CA certificate with pathlen 0, keyCertSign,
// cRLSign and digitalSignature, signed by the root. notAfter is clamped
// to the root's.
[[nodiscard]] Result<crypto::Certificate> sign_intermediate(const IntermediateSpec& spec, const crypto::Certificate& root,
                                                            EVP_PKEY* root_key);

// check_serves_names issues (and discards) a leaf for the CA server's own
// names, so a PKI whose name constraints exclude them is refused at init
// rather than when `keystep serve` starts.
[[nodiscard]] Status check_serves_names(const std::string& chain_pem, std::string_view key_pem,
                                        const std::string& root_pem, const std::vector<std::string>& names);

}  // namespace keystep::cli
