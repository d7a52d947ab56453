#pragma once
// to_asn1_time encodes a time point, truncated to the second, as an
// ASN1_TIME (UTCTime through 2049, GeneralizedTime after, as RFC 5280
// requires); invalid_argument when OpenSSL cannot represent it.

#include "issuer/common/clock.h"
#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::revocation {

[[nodiscard]] Result<crypto::Asn1TimePtr> to_asn1_time(common::TimePoint t);

}  // namespace keystep::revocation
