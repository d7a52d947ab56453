#pragma once
// KeyUsages is what a certificate may be used for: the keyUsage bits and the
// extKeyUsage purposes. parse_key_usages() reads cert-manager's usage strings
// (spec.usages of a CertificateRequest, cert-manager's KeyUsage type) into
// it; the signer encodes it.

#include <string>
#include <string_view>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::policy {

struct KeyUsages {
  int key_usage = 0;               // OpenSSL KU_* bits (KU_DIGITAL_SIGNATURE | ...); 0: no keyUsage extension
  std::vector<int> ext_key_usage;  // NIDs (NID_server_auth, ...), in request order; empty: no extKeyUsage

  friend bool operator==(const KeyUsages&, const KeyUsages&) = default;
};

// kDefaultCertManagerUsages is what cert-manager means by an empty usage list.
inline const std::vector<std::string> kDefaultCertManagerUsages = {"digital signature", "key encipherment"};

// parse_key_usages maps cert-manager usage strings, compared without regard
// to case, to KeyUsages: "signing" and "digital signature" -> digitalSignature,
// "content commitment" -> nonRepudiation, "key encipherment", "key agreement",
// "data encipherment", "cert sign", "crl sign", "encipher only", "decipher
// only" -> keyUsage bits; "any", "server auth", "client auth", "code
// signing", "email protection" and "s/mime" (both emailProtection), "ipsec
// end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
// "microsoft sgc", "netscape sgc" -> extKeyUsage. Duplicates collapse. An
// empty list is kDefaultCertManagerUsages. An unknown string is
// invalid_argument naming it: `unknown key usage "x"`.
[[nodiscard]] Result<KeyUsages> parse_key_usages(const std::vector<std::string>& usages);

}  // namespace keystep::policy
