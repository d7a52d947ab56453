#include "issuer/crypto/jose/jwk_import.h"

#include <optional>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/printable.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::jose::detail {
namespace {

using common::Bytes;
using crypto::EvpPkeyPtr;
using crypto::SecretBytes;

using BnCtxPtr = std::unique_ptr<BN_CTX, crypto::FreeWith<BN_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, crypto::FreeWith<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, crypto::FreeWith<OSSL_PARAM_free>>;

std::string member_error(std::string_view name, std::string_view what) {
  return "jwk member \"" + std::string(name) + "\" " + std::string(what);
}

Result<std::string> optional_string(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end()) return std::string();
  if (!it->is_string()) return fail(Errc::invalid_argument, member_error(name, "is not a string"));
  return it->get<std::string>();
}

Result<Bytes> required_b64(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end()) return fail(Errc::invalid_argument, member_error(name, "is missing"));
  if (!it->is_string()) return fail(Errc::invalid_argument, member_error(name, "is not a string"));
  auto bytes = common::base64url_decode(it->get_ref<const std::string&>());
  if (!bytes) return fail(Errc::invalid_argument, member_error(name, "is not base64url"));
  return bytes;
}

Result<SecretBytes> required_secret(const nlohmann::json& json, const char* name) {
  auto value = required_b64(json, name);
  if (!value) return tl::unexpected(value.error());
  return SecretBytes(std::move(*value));
}

Result<SecretBignumPtr> secret_bn(const SecretBytes& bytes) {
  SecretBignumPtr bn(BN_secure_new());
  if (!bn || BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), bn.get()) == nullptr) {
    return crypto::openssl_error(Errc::internal, "cannot allocate a private key number");
  }
  return bn;
}

Result<EvpPkeyPtr> key_from_params(const char* type, OSSL_PARAM* params, bool has_private, std::string_view what) {
  crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot import " + std::string(what));
  }
  EVP_PKEY* raw = nullptr;
  int rc = EVP_PKEY_fromdata(ctx.get(), &raw, has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params);
  EvpPkeyPtr key(raw);
  if (rc != 1 || !key) {
    return crypto::openssl_error(Errc::invalid_argument, std::string(what) + " is not a valid key");
  }
  return key;
}

Status import_ec(const nlohmann::json& json, ImportedJwk& out) {
  auto crv = optional_string(json, "crv");
  if (!crv) return tl::unexpected(crv.error());
  const Curve* curve = curve_by_crv(*crv);
  if (curve == nullptr) return fail(Errc::invalid_argument, "unsupported EC jwk curve " + printable(*crv));
  auto x = required_b64(json, "x");
  if (!x) return tl::unexpected(x.error());
  auto y = required_b64(json, "y");
  if (!y) return tl::unexpected(y.error());
  const std::string want = "must be " + std::to_string(curve->size) + " bytes for " + std::string(curve->crv);
  if (x->size() != curve->size) return fail(Errc::invalid_argument, member_error("x", want));
  if (y->size() != curve->size) return fail(Errc::invalid_argument, member_error("y", want));
  Bytes point{0x04};  // uncompressed SEC1 point
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot build EC key parameters");
  }
  SecretBignumPtr d;  // alive until the params are built
  out.has_private = json.contains("d");
  if (out.has_private) {
    auto secret = required_secret(json, "d");
    if (!secret) return tl::unexpected(secret.error());
    if (secret->size() != curve->size) return fail(Errc::invalid_argument, member_error("d", want));
    auto bn = secret_bn(*secret);
    if (!bn) return tl::unexpected(bn.error());
    d = std::move(*bn);
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
      return crypto::openssl_error(Errc::internal, "cannot build EC key parameters");
    }
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return crypto::openssl_error(Errc::internal, "cannot build EC key parameters");
  auto key = key_from_params("EC", params.get(), out.has_private, "EC jwk");
  if (!key) return tl::unexpected(key.error());
  // Import already rejects points off the curve; the check adds the order
  // test and, for a private key, d*G == (x, y).
  crypto::EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  const int rc = !check            ? 0
                 : out.has_private ? EVP_PKEY_pairwise_check(check.get())
                                   : EVP_PKEY_public_check(check.get());
  if (rc != 1) {
    return crypto::openssl_error(Errc::invalid_argument, out.has_private
                                                             ? "EC jwk private key does not match its public key"
                                                             : "EC jwk public key is not a valid point");
  }
  out.key = std::move(*key);
  return ok();
}

Status import_rsa(const nlohmann::json& json, ImportedJwk& out) {
  if (json.contains("oth")) return fail(Errc::invalid_argument, "multi-prime RSA jwk is not supported");
  auto n_bytes = required_b64(json, "n");
  if (!n_bytes) return tl::unexpected(n_bytes.error());
  auto e_bytes = required_b64(json, "e");
  if (!e_bytes) return tl::unexpected(e_bytes.error());
  const std::size_t max_bytes = kMaxRsaBits / 8 + 1;  // one leading zero tolerated
  if (n_bytes->size() > max_bytes) return fail(Errc::invalid_argument, member_error("n", "is too large"));
  if (e_bytes->size() > 8) return fail(Errc::invalid_argument, member_error("e", "is too large"));
  crypto::BignumPtr n(BN_bin2bn(n_bytes->data(), static_cast<int>(n_bytes->size()), nullptr));
  crypto::BignumPtr e(BN_bin2bn(e_bytes->data(), static_cast<int>(e_bytes->size()), nullptr));
  if (!n || !e) return crypto::openssl_error(Errc::internal, "cannot allocate RSA numbers");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits || !BN_is_odd(n.get())) {
    return fail(Errc::invalid_argument, member_error("n", "is not an odd modulus of 512 to 16384 bits"));
  }
  if (!BN_is_odd(e.get()) || BN_is_one(e.get()) || BN_cmp(e.get(), n.get()) >= 0) {
    return fail(Errc::invalid_argument, member_error("e", "is not a valid public exponent"));
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot build RSA key parameters");
  }
  std::array<SecretBignumPtr, kRsaPrivateMembers.size()> secrets;  // alive until the params are built
  out.has_private = json.contains("d");
  if (out.has_private) {
    for (std::size_t i = 0; i < kRsaPrivateMembers.size(); ++i) {
      const auto& [name, param] = kRsaPrivateMembers[i];
      if (!json.contains(name)) return fail(Errc::invalid_argument, "RSA private jwk needs d, p, q, dp, dq and qi");
      auto secret = required_secret(json, name);
      if (!secret) return tl::unexpected(secret.error());
      if (secret->size() > max_bytes) return fail(Errc::invalid_argument, member_error(name, "is too large"));
      auto bn = secret_bn(*secret);
      if (!bn) return tl::unexpected(bn.error());
      secrets[i] = std::move(*bn);
      if (OSSL_PARAM_BLD_push_BN(bld.get(), param, secrets[i].get()) != 1) {
        return crypto::openssl_error(Errc::internal, "cannot build RSA key parameters");
      }
    }
    // A cheap consistency check: the primes must multiply to the modulus.
    BnCtxPtr ctx(BN_CTX_new());
    crypto::BignumPtr product(BN_new());
    if (!ctx || !product || BN_mul(product.get(), secrets[1].get(), secrets[2].get(), ctx.get()) != 1) {
      return crypto::openssl_error(Errc::internal, "cannot check RSA key");
    }
    if (BN_cmp(product.get(), n.get()) != 0) {
      return fail(Errc::invalid_argument, "RSA jwk private key does not match its modulus");
    }
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return crypto::openssl_error(Errc::internal, "cannot build RSA key parameters");
  auto key = key_from_params("RSA", params.get(), out.has_private, "RSA jwk");
  if (!key) return tl::unexpected(key.error());
  out.key = std::move(*key);
  return ok();
}

Status import_okp(const nlohmann::json& json, ImportedJwk& out) {
  auto crv = optional_string(json, "crv");
  if (!crv) return tl::unexpected(crv.error());
  if (*crv != "Ed25519") return fail(Errc::invalid_argument, "unsupported OKP jwk curve " + printable(*crv));
  auto x = required_b64(json, "x");
  if (!x) return tl::unexpected(x.error());
  if (x->size() != kEd25519Size) {
    return fail(Errc::invalid_argument, member_error("x", "must be 32 bytes for Ed25519"));
  }
  out.has_private = json.contains("d");
  if (!out.has_private) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x->data(), x->size()),
        OSSL_PARAM_construct_end(),
    };
    auto key = key_from_params("ED25519", params, false, "OKP jwk");
    if (!key) return tl::unexpected(key.error());
    out.key = std::move(*key);
    return ok();
  }
  auto d = required_secret(json, "d");
  if (!d) return tl::unexpected(d.error());
  if (d->size() != kEd25519Size) {
    return fail(Errc::invalid_argument, member_error("d", "must be 32 bytes for Ed25519"));
  }
  // Import d alone (pointing at the wiped buffer, no copy): OpenSSL derives
  // the public key, which must then be x.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, d->data(), d->size()),
      OSSL_PARAM_construct_end(),
  };
  auto key = key_from_params("ED25519", params, true, "OKP jwk");
  if (!key) return tl::unexpected(key.error());
  std::array<std::uint8_t, kEd25519Size> derived{};
  std::size_t len = derived.size();
  if (EVP_PKEY_get_raw_public_key(key->get(), derived.data(), &len) != 1 || len != derived.size() ||
      CRYPTO_memcmp(derived.data(), x->data(), derived.size()) != 0) {
    return crypto::openssl_error(Errc::invalid_argument, "OKP jwk private key does not match its public key");
  }
  out.key = std::move(*key);
  return ok();
}

}  // namespace

const Curve* curve_by_crv(std::string_view crv) {
  for (const Curve& c : kCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

const Curve* curve_by_group(std::string_view group) {
  for (const Curve& c : kCurves) {
    if (c.group == group || c.crv == group) return &c;
  }
  return nullptr;
}

Result<ImportedJwk> import_jwk(const nlohmann::json& json) {
  if (!json.is_object()) return fail(Errc::invalid_argument, "jwk is not a JSON object");
  ImportedJwk out;
  for (auto [name, field] : {std::pair{"kid", &out.kid}, {"alg", &out.alg}, {"use", &out.use}}) {
    auto value = optional_string(json, name);
    if (!value) return tl::unexpected(value.error());
    *field = std::move(*value);
  }
  auto kty = optional_string(json, "kty");
  if (!kty) return tl::unexpected(kty.error());
  Status status;
  if (*kty == "EC") {
    status = import_ec(json, out);
  } else if (*kty == "RSA") {
    status = import_rsa(json, out);
  } else if (*kty == "OKP") {
    status = import_okp(json, out);
  } else {
    return fail(Errc::invalid_argument, "unsupported jwk kty " + printable(*kty));
  }
  if (!status) return tl::unexpected(status.error());
  return out;
}

}  // namespace keystep::jose::detail
