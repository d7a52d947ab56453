#include "issuer/policy/key_usages.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace keystep::policy {
namespace {

struct Usage {
  std::string_view name;
  int key_usage;  // KU_* bit, or 0
  int nid;        // extKeyUsage NID, or NID_undef
};

// cert-manager's KeyUsage strings (pkg/apis/certmanager/v1/types.go) and
// their X.509 meaning (pkg/util/pki/certificatetemplate.go).
constexpr Usage kUsages[] = {
    {"signing", KU_DIGITAL_SIGNATURE, NID_undef},
    {"digital signature", KU_DIGITAL_SIGNATURE, NID_undef},
    {"content commitment", KU_NON_REPUDIATION, NID_undef},
    {"key encipherment", KU_KEY_ENCIPHERMENT, NID_undef},
    {"key agreement", KU_KEY_AGREEMENT, NID_undef},
    {"data encipherment", KU_DATA_ENCIPHERMENT, NID_undef},
    {"cert sign", KU_KEY_CERT_SIGN, NID_undef},
    {"crl sign", KU_CRL_SIGN, NID_undef},
    {"encipher only", KU_ENCIPHER_ONLY, NID_undef},
    {"decipher only", KU_DECIPHER_ONLY, NID_undef},
    {"any", 0, NID_anyExtendedKeyUsage},
    {"server auth", 0, NID_server_auth},
    {"client auth", 0, NID_client_auth},
    {"code signing", 0, NID_code_sign},
    {"email protection", 0, NID_email_protect},
    {"s/mime", 0, NID_email_protect},
    {"ipsec end system", 0, NID_ipsecEndSystem},
    {"ipsec tunnel", 0, NID_ipsecTunnel},
    {"ipsec user", 0, NID_ipsecUser},
    {"timestamping", 0, NID_time_stamp},
    {"ocsp signing", 0, NID_OCSP_sign},
    {"microsoft sgc", 0, NID_ms_sgc},
    {"netscape sgc", 0, NID_ns_sgc},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

Result<KeyUsages> parse_key_usages(const std::vector<std::string>& usages) {
  const auto& names = usages.empty() ? kDefaultCertManagerUsages : usages;
  KeyUsages out;
  for (const auto& name : names) {
    const std::string key = lower(name);
    const auto* it = std::find_if(std::begin(kUsages), std::end(kUsages), [&](const Usage& u) { return u.name == key; });
    if (it == std::end(kUsages)) return fail(Errc::invalid_argument, "unknown key usage \"" + name + "\"");
    out.key_usage |= it->key_usage;
    if (it->nid != NID_undef &&
        std::find(out.ext_key_usage.begin(), out.ext_key_usage.end(), it->nid) == out.ext_key_usage.end()) {
      out.ext_key_usage.push_back(it->nid);
    }
  }
  return out;
}

}  // namespace keystep::policy
