#include "issuer/crypto/jose/jws.h"

#include <cctype>
#include <optional>

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "issuer/crypto/jose/printable.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::jose {
namespace {

using common::Bytes;
using detail::printable;

constexpr std::string_view kNotVerified = "token signature does not verify";

// digest_name is the OpenSSL digest of a JWS alg; nullptr for EdDSA, which
// hashes internally. Only called for algs the key accepted.
const char* digest_name(std::string_view alg) {
  std::string_view bits = alg.size() == 5 ? alg.substr(2) : std::string_view();
  if (bits == "256") return "SHA256";
  if (bits == "384") return "SHA384";
  if (bits == "512") return "SHA512";
  return nullptr;
}

bool is_pss(std::string_view alg) { return alg.size() == 5 && alg.substr(0, 2) == "PS"; }

std::string header_string(const nlohmann::json& header, const char* name) {
  auto it = header.find(name);
  return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// init_context prepares ctx to sign (or verify) with key under alg.
bool init_context(EVP_MD_CTX* ctx, const Jwk& key, std::string_view alg, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const char* md = digest_name(alg);
  int rc = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, key.pkey(), nullptr)
                : EVP_DigestVerifyInit_ex(ctx, &pctx, md, nullptr, nullptr, key.pkey(), nullptr);
  if (rc != 1) return false;
  if (is_pss(alg)) {
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  return true;
}

// der_to_raw turns an ECDSA DER signature into JOSE R||S, each half
// left-padded to the curve size.
Result<Bytes> der_to_raw(const Bytes& der, std::size_t size) {
  const unsigned char* p = der.data();
  crypto::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return crypto::openssl_error(Errc::internal, "cannot decode ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes raw(2 * size);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(size)) < 0 ||
      BN_bn2binpad(s, raw.data() + size, static_cast<int>(size)) < 0) {
    return crypto::openssl_error(Errc::internal, "ECDSA signature does not fit the curve");
  }
  return raw;
}

// raw_to_der is the inverse; raw must be exactly 2 * size bytes.
Result<Bytes> raw_to_der(const Bytes& raw, std::size_t size) {
  if (raw.size() != 2 * size) return fail(Errc::unauthenticated, std::string(kNotVerified));
  crypto::BignumPtr r(BN_bin2bn(raw.data(), static_cast<int>(size), nullptr));
  crypto::BignumPtr s(BN_bin2bn(raw.data() + size, static_cast<int>(size), nullptr));
  crypto::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot encode ECDSA signature");
  }
  (void)r.release();  // now owned by sig
  (void)s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return crypto::openssl_error(Errc::internal, "cannot encode ECDSA signature");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
    return crypto::openssl_error(Errc::internal, "cannot encode ECDSA signature");
  }
  return der;
}

Result<Bytes> sign_input(std::string_view input, const Jwk& key, std::string_view alg) {
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !init_context(ctx.get(), key, alg, true)) {
    return crypto::openssl_error(Errc::internal, "cannot start signing");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot size signature");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, input.size()) != 1) {
    return crypto::openssl_error(Errc::internal, "signing failed");
  }
  sig.resize(len);
  if (key.key_type() == KeyType::ec) return der_to_raw(sig, key.coordinate_size());
  return sig;
}

std::optional<nlohmann::json> parse_object(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  return json;
}

bool is_none(std::string_view alg) {
  if (alg.size() != 4) return false;
  std::string lower;
  for (char c : alg) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "none";
}

}  // namespace

std::string Jws::alg() const { return header_string(header, "alg"); }
std::string Jws::kid() const { return header_string(header, "kid"); }

Result<std::string> sign_compact(const nlohmann::json& protected_header, std::string_view payload, const Jwk& key) {
  if (!protected_header.is_object()) return fail(Errc::invalid_argument, "jws header is not a JSON object");
  const std::string alg = header_string(protected_header, "alg");
  if (alg.empty()) return fail(Errc::invalid_argument, "jws header has no string alg");
  if (!key.has_private()) return fail(Errc::failed_precondition, "signing key has no private part");
  if (!key.is_compatible_alg(alg)) {
    return fail(Errc::invalid_argument, "algorithm " + printable(alg) + " does not match the signing key");
  }
  std::string header_text;
  try {
    header_text = protected_header.dump();
  } catch (const nlohmann::json::type_error& e) {  // invalid UTF-8 in a string
    return fail(Errc::invalid_argument, std::string("jws header cannot be serialized: ") + e.what());
  }
  std::string input = common::base64url_encode(header_text) + '.' + common::base64url_encode(payload);
  auto sig = sign_input(input, key, alg);
  if (!sig) return tl::unexpected(sig.error());
  return input + '.' + common::base64url_encode(*sig);
}

Result<Jws> parse_compact(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return fail(Errc::unauthenticated, "token larger than 64 KiB");
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(Errc::unauthenticated, "token is not a compact JWS (want three dot-separated parts)");
  }
  auto header_bytes = common::base64url_decode(token.substr(0, first));
  if (!header_bytes) return fail(Errc::unauthenticated, "token header is not base64url");
  auto header = parse_object(common::to_string(*header_bytes));
  if (!header) return fail(Errc::unauthenticated, "token header is not a JSON object");
  Jws jws;
  jws.header = std::move(*header);
  const std::string alg = jws.alg();
  if (alg.empty()) return fail(Errc::unauthenticated, "token header has no string alg");
  if (is_none(alg)) {
    return fail(Errc::unauthenticated, "token algorithm \"none\" is not allowed");
  }
  if (jws.header.contains("crit")) {
    return fail(Errc::unauthenticated, "token has critical header parameters, none are supported");
  }
  auto payload = common::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return fail(Errc::unauthenticated, "token payload is not base64url");
  auto signature = common::base64url_decode(token.substr(second + 1));
  if (!signature) return fail(Errc::unauthenticated, "token signature is not base64url");
  if (signature->empty()) return fail(Errc::unauthenticated, "token is not signed");
  jws.payload = common::to_string(*payload);
  jws.signature = std::move(*signature);
  jws.signing_input = std::string(token.substr(0, second));
  return jws;
}

Status verify(const Jws& jws, const Jwk& key) {
  const std::string alg = jws.alg();
  if (key.pkey() == nullptr) return fail(Errc::internal, "verification key is empty");
  if (!key.is_compatible_alg(alg)) {
    return fail(Errc::unauthenticated, "token algorithm " + printable(alg) + " does not match key");
  }
  const Bytes* sig = &jws.signature;
  Bytes der;
  if (key.key_type() == KeyType::ec) {
    auto converted = raw_to_der(jws.signature, key.coordinate_size());
    if (!converted) return tl::unexpected(converted.error());
    der = std::move(*converted);
    sig = &der;
  }
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !init_context(ctx.get(), key, alg, false)) {
    return crypto::openssl_error(Errc::internal, "cannot start signature verification");
  }
  if (EVP_DigestVerify(ctx.get(), sig->data(), sig->size(),
                       reinterpret_cast<const unsigned char*>(jws.signing_input.data()),
                       jws.signing_input.size()) != 1) {
    // The OpenSSL reason ("bad signature", ...) tells a caller nothing more.
    ERR_clear_error();
    return fail(Errc::unauthenticated, std::string(kNotVerified));
  }
  return ok();
}

Result<nlohmann::json> payload_json(const Jws& jws) {
  auto json = parse_object(jws.payload);
  if (!json) return fail(Errc::unauthenticated, "token payload is not a JSON object");
  return std::move(*json);
}

}  // namespace keystep::jose
