#include "issuer/crypto/jose/jwk.h"

#include <array>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/jwk_import.h"
#include "issuer/crypto/jose/printable.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::jose {
namespace {

using crypto::EvpPkeyPtr;
using crypto::SecretBytes;
using detail::curve_by_crv;
using detail::kEd25519Size;
using detail::printable;
using detail::SecretBignumPtr;

constexpr int kMinGeneratedRsaBits = 2048;
constexpr int kMaxGeneratedRsaBits = 8192;

bool is_rsa_alg(std::string_view alg) {
  return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "PS256" || alg == "PS384" ||
         alg == "PS512";
}

// b64_bn_param exports the number `name` as base64url, left-padded to
// `width` bytes, or minimal when width is 0.
Result<std::string> b64_bn_param(const EVP_PKEY* key, const char* name, std::size_t width) {
  BIGNUM* raw = nullptr;
  int rc = EVP_PKEY_get_bn_param(key, name, &raw);
  SecretBignumPtr bn(raw);
  if (rc != 1 || !bn) return crypto::openssl_error(Errc::internal, std::string("cannot export key parameter ") + name);
  SecretBytes buf;
  buf.resize(width != 0 ? width : static_cast<std::size_t>(BN_num_bytes(bn.get())));
  if (BN_bn2binpad(bn.get(), buf.data(), static_cast<int>(buf.size())) < 0) {
    return crypto::openssl_error(Errc::internal, std::string("key parameter ") + name + " is too large");
  }
  return common::base64url_encode(buf.data(), buf.size());
}

bool pkey_has_private(const EVP_PKEY* key) {
  bool found = false;
  if (EVP_PKEY_is_a(key, "ED25519")) {
    std::size_t len = 0;
    found = EVP_PKEY_get_raw_private_key(key, nullptr, &len) == 1 && len == kEd25519Size;
  } else {
    BIGNUM* raw = nullptr;
    found = EVP_PKEY_get_bn_param(key, EVP_PKEY_is_a(key, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY,
                                  &raw) == 1;
    SecretBignumPtr d(raw);
  }
  // A public-only key answers by queueing "not found"; that is the answer
  // we asked for, not a failure, so it must not reach the next caller.
  ERR_clear_error();
  return found;
}

}  // namespace

Jwk::Jwk(const Jwk& other)
    : key_type_(other.key_type_),
      crv_(other.crv_),
      coordinate_size_(other.coordinate_size_),
      has_private_(other.has_private_),
      public_members_(other.public_members_),
      kid_(other.kid_),
      alg_(other.alg_),
      use_(other.use_) {
  if (other.pkey_) {
    if (EVP_PKEY_up_ref(other.pkey_.get()) != 1) throw std::runtime_error("EVP_PKEY_up_ref failed");
    pkey_.reset(other.pkey_.get());
  }
}

Jwk& Jwk::operator=(const Jwk& other) {
  if (this != &other) *this = Jwk(other);
  return *this;
}

Result<Jwk> Jwk::wrap(EvpPkeyPtr key, bool has_private) {
  Jwk jwk;
  const EVP_PKEY* k = key.get();
  if (EVP_PKEY_is_a(k, "EC")) {
    std::array<char, 64> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(k, group.data(), group.size(), &len) != 1) {
      return crypto::openssl_error(Errc::invalid_argument, "EC key has no named curve");
    }
    const detail::Curve* curve = detail::curve_by_group(std::string_view(group.data(), len));
    if (curve == nullptr) return fail(Errc::invalid_argument, "unsupported EC curve " + printable(group.data()));
    auto x = b64_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, curve->size);
    if (!x) return tl::unexpected(x.error());
    auto y = b64_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, curve->size);
    if (!y) return tl::unexpected(y.error());
    jwk.key_type_ = KeyType::ec;
    jwk.crv_ = curve->crv;
    jwk.coordinate_size_ = curve->size;
    jwk.public_members_ = {{"crv", jwk.crv_}, {"kty", "EC"}, {"x", std::move(*x)}, {"y", std::move(*y)}};
  } else if (EVP_PKEY_is_a(k, "RSA")) {
    const int bits = EVP_PKEY_get_bits(k);
    if (bits < detail::kMinRsaBits || bits > detail::kMaxRsaBits) {
      return fail(Errc::invalid_argument, "RSA key must have 512 to 16384 bits");
    }
    auto n = b64_bn_param(k, OSSL_PKEY_PARAM_RSA_N, 0);
    if (!n) return tl::unexpected(n.error());
    auto e = b64_bn_param(k, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!e) return tl::unexpected(e.error());
    jwk.key_type_ = KeyType::rsa;
    jwk.public_members_ = {{"e", std::move(*e)}, {"kty", "RSA"}, {"n", std::move(*n)}};
  } else if (EVP_PKEY_is_a(k, "ED25519")) {
    std::array<std::uint8_t, kEd25519Size> x{};
    std::size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(k, x.data(), &len) != 1 || len != x.size()) {
      return crypto::openssl_error(Errc::internal, "cannot export Ed25519 public key");
    }
    jwk.key_type_ = KeyType::okp;
    jwk.crv_ = "Ed25519";
    jwk.public_members_ = {{"crv", jwk.crv_}, {"kty", "OKP"}, {"x", common::base64url_encode(x.data(), len)}};
  } else {
    const char* type = EVP_PKEY_get0_type_name(k);
    return fail(Errc::invalid_argument, "unsupported key type " + printable(type != nullptr ? type : "unknown"));
  }
  jwk.pkey_ = std::move(key);
  jwk.has_private_ = has_private;
  return jwk;
}

Result<Jwk> Jwk::from_json(const nlohmann::json& json) {
  auto imported = detail::import_jwk(json);
  if (!imported) return tl::unexpected(imported.error());
  auto jwk = wrap(std::move(imported->key), imported->has_private);
  if (!jwk) return jwk;
  if (!imported->alg.empty() && !jwk->is_compatible_alg(imported->alg)) {
    return fail(Errc::invalid_argument, "jwk alg " + printable(imported->alg) + " does not match its key");
  }
  jwk->kid_ = std::move(imported->kid);
  jwk->alg_ = std::move(imported->alg);
  jwk->use_ = std::move(imported->use);
  return jwk;
}

Result<Jwk> Jwk::from_pkey(EVP_PKEY* key, std::string alg) {
  if (key == nullptr) return fail(Errc::invalid_argument, "key is null");
  if (EVP_PKEY_up_ref(key) != 1) return crypto::openssl_error(Errc::internal, "cannot reference key");
  EvpPkeyPtr owned(key);
  const bool has_private = pkey_has_private(key);
  auto jwk = wrap(std::move(owned), has_private);
  if (!jwk) return jwk;
  if (alg.empty()) {
    switch (jwk->key_type_) {
      case KeyType::ec: alg = curve_by_crv(jwk->crv_)->alg; break;
      case KeyType::rsa: alg = "RS256"; break;
      case KeyType::okp: alg = "EdDSA"; break;
    }
  } else if (!jwk->is_compatible_alg(alg)) {
    return fail(Errc::invalid_argument, "alg " + printable(alg) + " does not match the key");
  }
  jwk->alg_ = std::move(alg);
  jwk->use_ = "sig";
  jwk->kid_ = jwk->thumbprint();
  return jwk;
}

Result<Jwk> Jwk::generate(std::string_view kty, int size, std::string_view crv) {
  EvpPkeyPtr key;
  if (kty == "EC") {
    const detail::Curve* curve = curve_by_crv(crv);
    if (curve == nullptr) return fail(Errc::invalid_argument, "unsupported EC curve " + printable(crv));
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve->group));
  } else if (kty == "RSA") {
    if (size < kMinGeneratedRsaBits || size > kMaxGeneratedRsaBits) {
      return fail(Errc::invalid_argument, "RSA key size must be 2048 to 8192 bits");
    }
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(size)));
  } else if (kty == "OKP") {
    if (crv != "Ed25519") return fail(Errc::invalid_argument, "unsupported OKP curve " + printable(crv));
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  } else {
    return fail(Errc::invalid_argument, "unsupported kty " + printable(kty));
  }
  if (!key) return crypto::openssl_error(Errc::internal, "key generation failed");
  return from_pkey(key.get());
}

nlohmann::json Jwk::public_json() const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [name, value] : public_members_) json[name] = value;
  if (!use_.empty()) json["use"] = use_;
  if (!kid_.empty()) json["kid"] = kid_;
  if (!alg_.empty()) json["alg"] = alg_;
  return json;
}

Result<nlohmann::json> Jwk::private_json() const {
  if (!has_private_) return fail(Errc::failed_precondition, "jwk has no private key");
  nlohmann::json json = public_json();
  switch (key_type_) {
    case KeyType::ec: {
      auto d = b64_bn_param(pkey_.get(), OSSL_PKEY_PARAM_PRIV_KEY, coordinate_size_);
      if (!d) return tl::unexpected(d.error());
      json["d"] = std::move(*d);
      break;
    }
    case KeyType::rsa: {
      for (const auto& [name, param] : detail::kRsaPrivateMembers) {
        auto value = b64_bn_param(pkey_.get(), param, 0);
        if (!value) return tl::unexpected(value.error());
        json[name] = std::move(*value);
      }
      break;
    }
    case KeyType::okp: {
      SecretBytes d;
      d.resize(kEd25519Size);
      std::size_t len = d.size();
      if (EVP_PKEY_get_raw_private_key(pkey_.get(), d.data(), &len) != 1 || len != d.size()) {
        return crypto::openssl_error(Errc::internal, "cannot export Ed25519 private key");
      }
      json["d"] = common::base64url_encode(d.data(), d.size());
      break;
    }
  }
  return json;
}

Result<Jwk> Jwk::public_only() const { return from_json(public_json()); }

std::string Jwk::thumbprint() const {
  // RFC 7638 §3: required members only, sorted, no whitespace. Every value
  // is base64url or a curve name, so none needs JSON escaping.
  std::string canonical = "{";
  for (const auto& [name, value] : public_members_) {
    if (canonical.size() > 1) canonical += ',';
    canonical += '"' + name + "\":\"" + value + '"';
  }
  canonical += '}';
  std::array<std::uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest.data());
  return common::base64url_encode(digest.data(), digest.size());
}

bool Jwk::is_compatible_alg(std::string_view alg) const {
  switch (key_type_) {
    case KeyType::ec: {
      const detail::Curve* curve = curve_by_crv(crv_);
      return curve != nullptr && alg == curve->alg;
    }
    case KeyType::rsa: return is_rsa_alg(alg);
    case KeyType::okp: return alg == "EdDSA";
  }
  return false;
}

}  // namespace keystep::jose
