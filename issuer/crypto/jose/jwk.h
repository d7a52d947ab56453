#pragma once
// Jwk is a JSON Web Key (RFC 7517) for signing: EC P-256/P-384/P-521, RSA,
// or OKP Ed25519, held as an OpenSSL 3 EVP_PKEY with its kid, alg and use.
//
// A Jwk is immutable once made. Copies share the EVP_PKEY (reference
// counted), so a Jwk can be copied cheaply and used from many threads at once.
// Every factory validates its input and fails with Errc::invalid_argument
// and a message naming the bad member; the public members (x, y, n, e) are
// exported once at construction so public_json() and thumbprint() cannot fail.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "issuer/common/error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::jose {

enum class KeyType { ec, rsa, okp };

class Jwk {
 public:
  // from_json reads a public or private JWK. EC coordinates and d must have
  // exactly the curve's size; the point must lie on the curve; a private part
  // must match the public one. RSA private keys need d, p, q, dp, dq and qi.
  [[nodiscard]] static Result<Jwk> from_json(const nlohmann::json& json);

  // from_pkey wraps a borrowed key (taking its own reference). An empty alg
  // defaults from the key: ES256/ES384/ES512 by curve, RS256, EdDSA. use is
  // "sig" and kid the RFC 7638 thumbprint.
  [[nodiscard]] static Result<Jwk> from_pkey(EVP_PKEY* key, std::string alg = "");

  // generate makes a fresh key: kty "EC" with crv P-256/P-384/P-521, "RSA"
  // with size bits (2048..8192), or "OKP" with crv Ed25519.
  [[nodiscard]] static Result<Jwk> generate(std::string_view kty, int size, std::string_view crv);

  Jwk(const Jwk& other);
  Jwk& operator=(const Jwk& other);
  Jwk(Jwk&&) noexcept = default;
  Jwk& operator=(Jwk&&) noexcept = default;
  ~Jwk() = default;

  // public_json: kty, crv, x, y (EC) / n, e (RSA) / x (OKP), plus use, kid
  // and alg when set. Base64url without padding; EC coordinates padded to
  // the curve size, RSA integers minimal big-endian.
  [[nodiscard]] nlohmann::json public_json() const;
  // private_json adds d (and p, q, dp, dq, qi for RSA). Fails with
  // failed_precondition if the key has no private part. The returned JSON
  // holds secret material the caller must not log.
  [[nodiscard]] Result<nlohmann::json> private_json() const;
  // public_only returns a copy of this key without its private part.
  [[nodiscard]] Result<Jwk> public_only() const;

  // thumbprint is the RFC 7638 SHA-256 thumbprint, base64url.
  [[nodiscard]] std::string thumbprint() const;

  [[nodiscard]] const std::string& kid() const { return kid_; }
  [[nodiscard]] const std::string& alg() const { return alg_; }
  [[nodiscard]] const std::string& use() const { return use_; }
  [[nodiscard]] KeyType key_type() const { return key_type_; }
  // crv is "P-256", "P-384", "P-521" or "Ed25519"; empty for RSA.
  [[nodiscard]] const std::string& crv() const { return crv_; }
  // coordinate_size is the EC field size in bytes (32, 48, 66); 0 otherwise.
  [[nodiscard]] std::size_t coordinate_size() const { return coordinate_size_; }
  [[nodiscard]] bool has_private() const { return has_private_; }
  // pkey is borrowed: valid while this Jwk (or a copy) lives.
  [[nodiscard]] EVP_PKEY* pkey() const { return pkey_.get(); }

  // is_compatible_alg: ES256/ES384/ES512 only with P-256/P-384/P-521,
  // RS*/PS* (256, 384, 512) with RSA, EdDSA with Ed25519.
  [[nodiscard]] bool is_compatible_alg(std::string_view alg) const;

 private:
  using Members = std::vector<std::pair<std::string, std::string>>;

  Jwk() = default;
  [[nodiscard]] static Result<Jwk> wrap(crypto::EvpPkeyPtr key, bool has_private);

  crypto::EvpPkeyPtr pkey_;
  KeyType key_type_ = KeyType::ec;
  std::string crv_;
  std::size_t coordinate_size_ = 0;
  bool has_private_ = false;
  Members public_members_;  // RFC 7638 required members, lexicographic
  std::string kid_;
  std::string alg_;
  std::string use_;
};

}  // namespace keystep::jose
