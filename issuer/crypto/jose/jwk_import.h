#pragma once
// Internal to the jose module: the key tables Jwk shares with its importer,
// and import_jwk, which turns JWK JSON into a validated OpenSSL 3 key built
// with EVP_PKEY_fromdata. Not part of the public API.

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::jose::detail {

inline constexpr int kMinRsaBits = 512;  // below this it is not a real RSA key
inline constexpr int kMaxRsaBits = 16384;
inline constexpr std::size_t kEd25519Size = 32;

struct Curve {
  std::string_view crv;  // JWK name
  const char* group;     // OpenSSL group name
  std::size_t size;      // field size in bytes
  std::string_view alg;  // the only JWS alg allowed with this curve
};
inline constexpr std::array<Curve, 3> kCurves{{
    {"P-256", "prime256v1", 32, "ES256"},
    {"P-384", "secp384r1", 48, "ES384"},
    {"P-521", "secp521r1", 66, "ES512"},
}};

// kRsaPrivateMembers pairs each RSA private JWK member with its OpenSSL
// parameter; p and q are entries 1 and 2.
inline constexpr std::array<std::pair<const char*, const char*>, 6> kRsaPrivateMembers{{
    {"d", OSSL_PKEY_PARAM_RSA_D},
    {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
    {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
}};

// curve_by_crv finds a curve by JWK name; nullptr if unsupported.
[[nodiscard]] const Curve* curve_by_crv(std::string_view crv);
// curve_by_group finds a curve by OpenSSL group name (or NIST name).
[[nodiscard]] const Curve* curve_by_group(std::string_view group);

// Private BIGNUMs are wiped when freed. Made with BN_secure_new, they also
// make OSSL_PARAM_BLD place them in a block that OSSL_PARAM_free wipes.
using SecretBignumPtr = std::unique_ptr<BIGNUM, crypto::FreeWith<BN_clear_free>>;

struct ImportedJwk {
  crypto::EvpPkeyPtr key;
  bool has_private = false;
  std::string kid;
  std::string alg;  // as given; the caller checks it against the key
  std::string use;
};

// import_jwk reads kty EC (P-256/384/521), RSA or OKP (Ed25519), public or
// private, and checks the key: exact coordinate sizes, point on the curve,
// private part matching the public one. Fails with invalid_argument and a
// message naming the offending member.
[[nodiscard]] Result<ImportedJwk> import_jwk(const nlohmann::json& json);

}  // namespace keystep::jose::detail
