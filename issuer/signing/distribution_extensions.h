#pragma once
// Where relying parties find revocation and the issuer: the CRL
// Distribution Points and Authority Information Access (OCSP, caIssuers)
// extensions, encoded once when the CA starts and added to every leaf.

#include <string>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::signing {

struct DerExtension {
  std::string oid;
  std::vector<unsigned char> der;
  bool critical = false;
};

struct DistributionUrls {
  std::string crl;         // CRL Distribution Point fullName URI; "" = none
  std::string ocsp;        // AIA id-ad-ocsp URI; "" = none
  std::string ca_issuers;  // AIA id-ad-caIssuers URI; "" = none
};

// encode_distribution_extensions validates the URLs (absolute http(s)) and
// returns the extensions to add; empty when no URL is set.
[[nodiscard]] Result<std::vector<DerExtension>> encode_distribution_extensions(const DistributionUrls& urls);

}  // namespace keystep::signing
