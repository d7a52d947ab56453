#include "operator/controllers/ca_secret.h"

#include <openssl/crypto.h>

#include "issuer/common/base64.h"

namespace keystep::controllers {
namespace {

Result<std::string> secret_value(const nlohmann::json& secret, const char* key) {
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object() || !data->contains(key) || !(*data)[key].is_string()) {
    return fail(Errc::failed_precondition, std::string("the Secret has no \"") + key + "\"");
  }
  auto bytes = common::base64_decode((*data)[key].get<std::string>());
  if (!bytes) return fail(Errc::invalid_argument, std::string("\"") + key + "\" is not base64");
  std::string out(bytes->begin(), bytes->end());
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return out;
}

}  // namespace

Result<std::shared_ptr<const signing::CertificateAuthority>> load_ca_secret(const nlohmann::json& secret,
                                                                            common::TimePoint now) {
  auto crt = secret_value(secret, "tls.crt");
  if (!crt) return tl::unexpected(crt.error());
  auto key = secret_value(secret, "tls.key");
  if (!key) return tl::unexpected(key.error());
  auto root = secret_value(secret, "ca.crt");
  if (!root) {
    OPENSSL_cleanse(key->data(), key->size());
    return tl::unexpected(root.error());
  }
  auto ca = signing::CertificateAuthority::load({*crt, *key, *root, nullptr}, now);
  OPENSSL_cleanse(key->data(), key->size());
  if (!ca) return tl::unexpected(ca.error());
  return ca;
}

}  // namespace keystep::controllers
