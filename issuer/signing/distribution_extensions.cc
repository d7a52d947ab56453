#include "issuer/signing/distribution_extensions.h"

#include <openssl/x509v3.h>

#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::signing {
namespace {

Status check_url(const std::string& field, const std::string& url) {
  const bool http = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  if (!http || url.size() > 2048 || url.find_first_of(" ,;\"") != std::string::npos) {
    return fail(Errc::invalid_argument, field + ": \"" + url.substr(0, 80) + "\" is not an absolute http(s) URL");
  }
  return ok();
}

Result<DerExtension> encode(int nid, const std::string& value) {
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
  if (!ext) return crypto::openssl_error(Errc::invalid_argument, std::string("cannot encode ") + OBJ_nid2sn(nid));
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext.get());
  const unsigned char* bytes = ASN1_STRING_get0_data(data);
  char oid[80];
  OBJ_obj2txt(oid, sizeof oid, OBJ_nid2obj(nid), 1);
  return DerExtension{oid, {bytes, bytes + ASN1_STRING_length(data)}, false};
}

}  // namespace

Result<std::vector<DerExtension>> encode_distribution_extensions(const DistributionUrls& urls) {
  std::vector<DerExtension> out;
  if (!urls.crl.empty()) {
    if (auto s = check_url("crl.distributionPoint", urls.crl); !s) return tl::unexpected(s.error());
    auto ext = encode(NID_crl_distribution_points, "URI:" + urls.crl);
    if (!ext) return tl::unexpected(ext.error());
    out.push_back(std::move(*ext));
  }
  std::string aia;
  if (!urls.ocsp.empty()) {
    if (auto s = check_url("aia.ocsp", urls.ocsp); !s) return tl::unexpected(s.error());
    aia = "OCSP;URI:" + urls.ocsp;
  }
  if (!urls.ca_issuers.empty()) {
    if (auto s = check_url("aia.caIssuers", urls.ca_issuers); !s) return tl::unexpected(s.error());
    aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + urls.ca_issuers;
  }
  if (!aia.empty()) {
    auto ext = encode(NID_info_access, aia);
    if (!ext) return tl::unexpected(ext.error());
    out.push_back(std::move(*ext));
  }
  return out;
}

}  // namespace keystep::signing
