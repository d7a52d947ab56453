#include "issuer/crypto/jose/jwe.h"

#include <array>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "issuer/common/base64.h"
#include "issuer/crypto/jose/printable.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"

namespace keystep::jose {
namespace {

using common::Bytes;
using crypto::SecretBytes;
using detail::printable;

constexpr std::size_t kSaltBytes = 16;     // what step writes
constexpr std::size_t kMinSaltBytes = 8;   // RFC 7518 §4.8.1.1
constexpr std::size_t kIvBytes = 12;       // RFC 7518 §5.3
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kWrapOverhead = 8;   // RFC 3394 integrity block
constexpr std::size_t kWrapBlock = 8;
constexpr std::string_view kWrongPassword = "wrong password or corrupted key";

struct KeyAlg {
  std::string_view name;
  const EVP_MD* (*prf)();
  std::size_t kek_size;
  const EVP_CIPHER* (*wrap)();
};
constexpr std::array<KeyAlg, 3> kKeyAlgs{{
    {"PBES2-HS256+A128KW", EVP_sha256, 16, EVP_aes_128_wrap},
    {"PBES2-HS384+A192KW", EVP_sha384, 24, EVP_aes_192_wrap},
    {"PBES2-HS512+A256KW", EVP_sha512, 32, EVP_aes_256_wrap},
}};

struct ContentAlg {
  std::string_view name;
  std::size_t cek_size;
  const EVP_CIPHER* (*cipher)();
};
constexpr std::array<ContentAlg, 3> kContentAlgs{{
    {"A128GCM", 16, EVP_aes_128_gcm},
    {"A192GCM", 24, EVP_aes_192_gcm},
    {"A256GCM", 32, EVP_aes_256_gcm},
}};

template <class Alg, std::size_t N>
const Alg* find_alg(const std::array<Alg, N>& algs, std::string_view name) {
  for (const Alg& a : algs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Status fill_random(std::uint8_t* data, std::size_t size) {
  if (RAND_bytes(data, static_cast<int>(size)) != 1) return crypto::openssl_error(Errc::internal, "no randomness");
  return ok();
}

// derive_kek: PBKDF2 with salt = UTF8(alg) || 0x00 || p2s (RFC 7518 §4.8.1.1).
Result<SecretBytes> derive_kek(std::string_view password, const KeyAlg& alg, const Bytes& p2s, int iterations) {
  Bytes salt(alg.name.begin(), alg.name.end());
  salt.push_back(0);
  salt.insert(salt.end(), p2s.begin(), p2s.end());
  SecretBytes kek;
  kek.resize(alg.kek_size);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        iterations, alg.prf(), static_cast<int>(kek.size()), kek.data()) != 1) {
    return crypto::openssl_error(Errc::internal, "key derivation failed");
  }
  return kek;
}

Result<Bytes> wrap_key(const SecretBytes& kek, const SecretBytes& cek, const KeyAlg& alg) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return crypto::openssl_error(Errc::internal, "cannot wrap key");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes ek(cek.size() + kWrapOverhead + kWrapBlock);  // EVP wants room for one more block
  int len = 0;
  int final_len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), alg.wrap(), nullptr, kek.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ek.data(), &len, cek.data(), static_cast<int>(cek.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ek.data() + len, &final_len) != 1 ||
      static_cast<std::size_t>(len + final_len) != cek.size() + kWrapOverhead) {
    return crypto::openssl_error(Errc::internal, "cannot wrap key");
  }
  ek.resize(cek.size() + kWrapOverhead);
  return ek;
}

// unwrap_key fails with permission_denied when the RFC 3394 integrity check
// fails, which is what a wrong password looks like.
Result<SecretBytes> unwrap_key(const SecretBytes& kek, const Bytes& ek, const KeyAlg& alg) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return crypto::openssl_error(Errc::internal, "cannot unwrap key");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_DecryptInit_ex(ctx.get(), alg.wrap(), nullptr, kek.data(), nullptr) != 1) {
    return crypto::openssl_error(Errc::internal, "cannot unwrap key");
  }
  // EVP wants room for one more block than it writes. The unused tail is
  // wiped before shrinking: SecretBytes only wipes bytes within its size.
  SecretBytes cek;
  cek.resize(ek.size() + kWrapBlock);
  int len = 0;
  int final_len = 0;
  if (EVP_DecryptUpdate(ctx.get(), cek.data(), &len, ek.data(), static_cast<int>(ek.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), cek.data() + len, &final_len) != 1 ||
      static_cast<std::size_t>(len + final_len) != ek.size() - kWrapOverhead) {
    ERR_clear_error();  // the reason is always "integrity check failed"
    return fail(Errc::permission_denied, std::string(kWrongPassword));
  }
  OPENSSL_cleanse(cek.data() + len + final_len, cek.size() - static_cast<std::size_t>(len + final_len));
  cek.resize(static_cast<std::size_t>(len + final_len));
  return cek;
}

struct Sealed {
  Bytes ciphertext;
  Bytes tag;
};

Result<Sealed> gcm_seal(const ContentAlg& enc, const SecretBytes& cek, const Bytes& iv, std::string_view aad,
                        std::string_view plaintext) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Sealed out{Bytes(plaintext.size()), Bytes(kTagBytes)};
  int len = 0;
  int final_len = 0;
  const auto* pt = reinterpret_cast<const unsigned char*>(plaintext.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), enc.cipher(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), out.ciphertext.data(), &len, pt, static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + (plaintext.empty() ? 0 : len), &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), out.tag.data()) != 1) {
    return crypto::openssl_error(Errc::internal, "content encryption failed");
  }
  return out;
}

Result<SecretBytes> gcm_open(const ContentAlg& enc, const SecretBytes& cek, const Bytes& iv, std::string_view aad,
                             const Bytes& ciphertext, const Bytes& tag) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), enc.cipher(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), iv.data()) != 1) {
    return crypto::openssl_error(Errc::internal, "content decryption failed");
  }
  SecretBytes plaintext;
  plaintext.resize(ciphertext.size());  // GCM is a stream mode: output size == input size
  int len = 0;
  int final_len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      (!ciphertext.empty() && EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext.data(),
                                                static_cast<int>(ciphertext.size())) != 1) ||
      // SET_TAG copies the tag; the cast only satisfies the void* parameter.
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                          const_cast<std::uint8_t*>(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + (ciphertext.empty() ? 0 : len), &final_len) != 1) {
    ERR_clear_error();  // a tag mismatch has no further detail
    return fail(Errc::permission_denied, std::string(kWrongPassword));
  }
  return plaintext;
}

Result<Bytes> decode_part(std::string_view part, std::string_view what) {
  auto bytes = common::base64url_decode(part);
  if (!bytes) return fail(Errc::invalid_argument, "JWE " + std::string(what) + " is not base64url");
  return bytes;
}

std::string header_string(const nlohmann::json& header, const char* name) {
  auto it = header.find(name);
  return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<int> read_p2c(const nlohmann::json& header) {
  auto it = header.find("p2c");
  if (it == header.end() || !it->is_number_integer()) {
    return fail(Errc::invalid_argument, "JWE header needs an integer p2c");
  }
  const bool in_bounds = it->is_number_unsigned() && it->get<std::uint64_t>() >= kMinPbes2Iterations &&
                         it->get<std::uint64_t>() <= kMaxPbes2Iterations;
  if (!in_bounds) {
    return fail(Errc::invalid_argument, "JWE p2c " + it->dump() + " is outside " + std::to_string(kMinPbes2Iterations) +
                                            ".." + std::to_string(kMaxPbes2Iterations));
  }
  return static_cast<int>(it->get<std::uint64_t>());
}

}  // namespace

Result<std::string> encrypt_pbes2(std::string_view plaintext, std::string_view password,
                                  std::string_view content_type, int iterations) {
  if (password.empty()) return fail(Errc::invalid_argument, "password must not be empty");
  if (iterations < kMinPbes2Iterations || iterations > kMaxPbes2Iterations) {
    return fail(Errc::invalid_argument, "p2c must be between " + std::to_string(kMinPbes2Iterations) + " and " +
                                            std::to_string(kMaxPbes2Iterations));
  }
  // Base64url grows data by 4/3; keep the result readable by decrypt_pbes2.
  if (plaintext.size() > kMaxJweBytes / 2) return fail(Errc::invalid_argument, "plaintext larger than 32 KiB");
  const KeyAlg& alg = kKeyAlgs[0];
  const ContentAlg& enc = kContentAlgs[2];

  Bytes p2s(kSaltBytes);
  if (auto st = fill_random(p2s.data(), p2s.size()); !st) return tl::unexpected(st.error());
  nlohmann::json header = {{"alg", alg.name}, {"enc", enc.name}, {"p2c", iterations},
                           {"p2s", common::base64url_encode(p2s)}};
  if (!content_type.empty()) header["cty"] = std::string(content_type);
  std::string header_b64;
  try {
    header_b64 = common::base64url_encode(header.dump());
  } catch (const nlohmann::json::type_error& e) {  // invalid UTF-8 in content_type
    return fail(Errc::invalid_argument, std::string("JWE header cannot be serialized: ") + e.what());
  }

  auto kek = derive_kek(password, alg, p2s, iterations);
  if (!kek) return tl::unexpected(kek.error());
  SecretBytes cek;
  cek.resize(enc.cek_size);
  if (auto st = fill_random(cek.data(), cek.size()); !st) return tl::unexpected(st.error());
  auto ek = wrap_key(*kek, cek, alg);
  if (!ek) return tl::unexpected(ek.error());
  Bytes iv(kIvBytes);
  if (auto st = fill_random(iv.data(), iv.size()); !st) return tl::unexpected(st.error());
  auto sealed = gcm_seal(enc, cek, iv, header_b64, plaintext);
  if (!sealed) return tl::unexpected(sealed.error());
  return header_b64 + '.' + common::base64url_encode(*ek) + '.' + common::base64url_encode(iv) + '.' +
         common::base64url_encode(sealed->ciphertext) + '.' + common::base64url_encode(sealed->tag);
}

Result<SecretBytes> decrypt_pbes2(std::string_view compact, std::string_view password) {
  if (compact.size() > kMaxJweBytes) return fail(Errc::invalid_argument, "encrypted key larger than 64 KiB");
  std::array<std::string_view, 5> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::size_t dot = compact.find('.', start);
    const bool last = i + 1 == parts.size();
    if (last != (dot == std::string_view::npos)) {
      return fail(Errc::invalid_argument, "encrypted key is not a compact JWE (want five dot-separated parts)");
    }
    parts[i] = compact.substr(start, last ? std::string_view::npos : dot - start);
    start = dot + 1;
  }

  auto header_bytes = decode_part(parts[0], "header");
  if (!header_bytes) return tl::unexpected(header_bytes.error());
  auto header = nlohmann::json::parse(common::to_string(*header_bytes), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return fail(Errc::invalid_argument, "JWE header is not a JSON object");
  }
  const std::string alg_name = header_string(header, "alg");
  const KeyAlg* alg = find_alg(kKeyAlgs, alg_name);
  if (alg == nullptr) return fail(Errc::invalid_argument, "unsupported JWE alg " + printable(alg_name));
  const std::string enc_name = header_string(header, "enc");
  const ContentAlg* enc = find_alg(kContentAlgs, enc_name);
  if (enc == nullptr) return fail(Errc::invalid_argument, "unsupported JWE enc " + printable(enc_name));
  if (header.contains("zip")) return fail(Errc::invalid_argument, "compressed JWE is not supported");
  if (header.contains("crit")) return fail(Errc::invalid_argument, "JWE critical header parameters are not supported");
  auto p2c = read_p2c(header);
  if (!p2c) return tl::unexpected(p2c.error());
  auto p2s_it = header.find("p2s");
  std::optional<Bytes> p2s;
  if (p2s_it != header.end() && p2s_it->is_string()) {
    if (auto decoded = common::base64url_decode(p2s_it->get_ref<const std::string&>())) p2s = std::move(*decoded);
  }
  if (!p2s || p2s->size() < kMinSaltBytes) {
    return fail(Errc::invalid_argument, "JWE header needs a base64url p2s of at least 8 bytes");
  }

  auto ek = decode_part(parts[1], "encrypted key");
  if (!ek) return tl::unexpected(ek.error());
  if (ek->size() != enc->cek_size + kWrapOverhead) {
    return fail(Errc::invalid_argument, "JWE encrypted key has the wrong length");
  }
  auto iv = decode_part(parts[2], "iv");
  if (!iv) return tl::unexpected(iv.error());
  if (iv->size() != kIvBytes) return fail(Errc::invalid_argument, "JWE iv must be 12 bytes");
  auto ciphertext = decode_part(parts[3], "ciphertext");
  if (!ciphertext) return tl::unexpected(ciphertext.error());
  auto tag = decode_part(parts[4], "tag");
  if (!tag) return tl::unexpected(tag.error());
  if (tag->size() != kTagBytes) return fail(Errc::invalid_argument, "JWE tag must be 16 bytes");

  auto kek = derive_kek(password, *alg, *p2s, *p2c);
  if (!kek) return tl::unexpected(kek.error());
  auto cek = unwrap_key(*kek, *ek, *alg);
  if (!cek) return tl::unexpected(cek.error());
  return gcm_open(*enc, *cek, *iv, parts[0], *ciphertext, *tag);
}

}  // namespace keystep::jose
