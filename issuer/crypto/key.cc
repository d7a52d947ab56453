#include "issuer/crypto/key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

#include "issuer/crypto/openssl_error.h"

namespace keystep::crypto {
namespace {

std::string ec_curve_name(EVP_PKEY* key) {
  char name[64] = {0};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    ERR_clear_error();
    return "unknown";
  }
  std::string n(name, len);
  if (n == "prime256v1") return "P-256";
  if (n == "secp384r1") return "P-384";
  if (n == "secp521r1") return "P-521";
  if (n == "prime192v1") return "P-192";
  if (n == "secp224r1") return "P-224";
  return n;
}

constexpr std::string_view kAccepted = "use EC P-256, EC P-384, Ed25519 or RSA of at least 2048 bits";

}  // namespace

Result<KeySpec> parse_key_spec(std::string_view kty, std::string_view crv, int bits) {
  KeySpec spec;
  if (kty.empty() || kty == "EC") {
    spec.kty = "EC";
    spec.crv = crv.empty() ? "P-256" : std::string(crv);
    if (spec.crv != "P-256" && spec.crv != "P-384") {
      return fail(Errc::invalid_argument, "--crv: EC keys use P-256 or P-384, not \"" + spec.crv + "\"");
    }
    if (bits != 0) return fail(Errc::invalid_argument, "--size: only RSA keys take a size");
    return spec;
  }
  if (kty == "RSA") {
    spec.kty = "RSA";
    spec.crv.clear();
    spec.bits = bits == 0 ? 2048 : bits;
    if (spec.bits != 2048 && spec.bits != 3072 && spec.bits != 4096) {
      return fail(Errc::invalid_argument, "--size: RSA keys are 2048, 3072 or 4096 bits");
    }
    if (!crv.empty()) return fail(Errc::invalid_argument, "--crv: RSA keys take no curve");
    return spec;
  }
  if (kty == "OKP") {
    spec.kty = "OKP";
    spec.crv = crv.empty() ? "Ed25519" : std::string(crv);
    if (spec.crv != "Ed25519") {
      return fail(Errc::invalid_argument, "--crv: OKP keys use Ed25519, not \"" + spec.crv + "\"");
    }
    if (bits != 0) return fail(Errc::invalid_argument, "--size: only RSA keys take a size");
    return spec;
  }
  return fail(Errc::invalid_argument, "--kty: use EC, RSA or OKP, not \"" + std::string(kty) + "\"");
}

Result<EvpPkeyPtr> generate_key(const KeySpec& spec) {
  EvpPkeyPtr key;
  if (spec.kty == "EC") {
    const char* group = spec.crv == "P-384" ? "P-384" : "P-256";
    key.reset(EVP_EC_gen(group));
  } else if (spec.kty == "RSA") {
    key.reset(EVP_RSA_gen(static_cast<unsigned>(spec.bits == 0 ? 2048 : spec.bits)));
  } else if (spec.kty == "OKP") {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  } else {
    return fail(Errc::invalid_argument, "unknown key type " + spec.kty);
  }
  if (!key) return openssl_error(Errc::internal, "key generation failed");
  return key;
}

Result<EvpPkeyPtr> private_key_from_pem(std::string_view pem, const SecretBytes* password) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // The callback never prompts: without a password it fails, so a server
  // never blocks on a terminal.
  SecretBytes pw_copy(password != nullptr ? password->view() : std::string_view{});
  pw_copy.resize(pw_copy.size() + 1);  // NUL terminator for OpenSSL
  pw_copy.data()[pw_copy.size() - 1] = 0;
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr,
      [](char* buf, int size, int, void* u) -> int {
        auto* pw = static_cast<SecretBytes*>(u);
        int n = static_cast<int>(pw->size()) - 1;
        if (n <= 0 || n > size) return -1;
        std::memcpy(buf, pw->data(), static_cast<std::size_t>(n));
        return n;
      },
      &pw_copy));
  if (!key) {
    bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && password == nullptr) {
      ERR_clear_error();
      return fail(Errc::invalid_argument, "private key is encrypted: give its password file");
    }
    if (encrypted) {
      ERR_clear_error();
      return fail(Errc::permission_denied, "cannot decrypt private key: wrong password");
    }
    return openssl_error(Errc::invalid_argument, "not a PEM private key");
  }
  return key;
}

Result<EvpPkeyPtr> public_key_from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return openssl_error(Errc::invalid_argument, "not a PEM public key");
  return key;
}

Result<SecretBytes> private_key_to_pem(EVP_PKEY* key, const SecretBytes* password) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  int rc = 0;
  if (password != nullptr) {
    rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                       reinterpret_cast<const char*>(password->data()),
                                       static_cast<int>(password->size()), nullptr, nullptr);
  } else {
    rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (rc != 1) return openssl_error(Errc::internal, "cannot encode private key");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes(std::string_view(data, static_cast<std::size_t>(len)));
}

Result<std::string> public_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) return openssl_error(Errc::internal, "cannot encode public key");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string describe_key(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC:
      return "EC " + ec_curve_name(key);
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    case EVP_PKEY_DSA:
      return "DSA " + std::to_string(EVP_PKEY_get_bits(key));
    default:
      return "unknown key type";
  }
}

Status check_leaf_key(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits < 2048) {
        return fail(Errc::permission_denied, "RSA key of " + std::to_string(bits) +
                                                 " bits is too weak: at least 2048 bits are required");
      }
      if (bits > 8192) {
        return fail(Errc::invalid_argument, "RSA key of " + std::to_string(bits) +
                                                " bits is too large: at most 8192 bits are accepted");
      }
      return ok();
    }
    case EVP_PKEY_EC: {
      std::string curve = ec_curve_name(key);
      if (curve == "P-256" || curve == "P-384") return ok();
      return fail(Errc::invalid_argument, "unsupported key EC " + curve + ": " + std::string(kAccepted));
    }
    case EVP_PKEY_ED25519:
      return ok();
    default:
      return fail(Errc::invalid_argument, "unsupported key " + describe_key(key) + ": " + std::string(kAccepted));
  }
}

bool same_public_key(EVP_PKEY* a, EVP_PKEY* b) {
  int rc = EVP_PKEY_eq(a, b);
  if (rc < 0) ERR_clear_error();
  return rc == 1;
}

const EVP_MD* signature_digest(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return nullptr;
    case EVP_PKEY_EC:
      if (EVP_PKEY_get_bits(key) > 384) return EVP_sha512();
      if (EVP_PKEY_get_bits(key) > 256) return EVP_sha384();
      return EVP_sha256();
    default:
      return EVP_sha256();
  }
}

}  // namespace keystep::crypto
