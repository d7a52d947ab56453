#include "issuer/revocation/asn1_time.h"

#include <ctime>

#include "issuer/crypto/openssl_error.h"

namespace keystep::revocation {

Result<crypto::Asn1TimePtr> to_asn1_time(common::TimePoint t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  crypto::Asn1TimePtr out(ASN1_TIME_set(nullptr, static_cast<std::time_t>(seconds)));
  if (!out) return crypto::openssl_error(Errc::invalid_argument, "time out of range for ASN.1");
  return out;
}

}  // namespace keystep::revocation
