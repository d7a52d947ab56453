#include "cli/provisioner_key.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "cli/secret_json.h"
#include "issuer/common/file.h"
#include "issuer/crypto/jose/jwe.h"

namespace keystep::cli {
namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Error not_a_key(const std::filesystem::path& path) {
  return Error{Errc::invalid_argument, "provisioner key " + path.string() + " is neither a JWE nor a private JWK"};
}

// compact_from_json rebuilds the compact form of a flattened JSON JWE; a JWE
// with members compact serialization cannot carry is refused.
Result<std::string> compact_from_json(const nlohmann::json& jwe, const std::filesystem::path& path) {
  for (const char* member : {"aad", "header", "unprotected", "recipients"}) {
    if (jwe.contains(member)) {
      return fail(Errc::invalid_argument,
                  "provisioner key " + path.string() + ": JWE member \"" + member + "\" is not supported");
    }
  }
  std::string compact;
  std::string_view separator;
  for (const char* member : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
    auto it = jwe.find(member);
    if (it == jwe.end() || !it->is_string()) {
      return fail(Errc::invalid_argument,
                  "provisioner key " + path.string() + ": JWE member \"" + member + "\" is missing");
    }
    compact += separator;
    compact += it->get_ref<const std::string&>();
    separator = ".";
  }
  return compact;
}

Result<jose::Jwk> private_jwk(const nlohmann::json& json, const std::filesystem::path& path) {
  if (!json.is_object()) return tl::unexpected(not_a_key(path));
  auto jwk = jose::Jwk::from_json(json);
  if (!jwk) return tl::unexpected(with_context(jwk.error(), "provisioner key " + path.string()));
  if (!jwk->has_private()) {
    return fail(Errc::invalid_argument, "provisioner key " + path.string() + " is a public key: give the private one");
  }
  return jwk;
}

}  // namespace

Result<jose::Jwk> load_provisioner_key(const std::filesystem::path& path, const crypto::SecretBytes* password) {
  auto content = common::read_file(path, jose::kMaxJweBytes);
  if (!content) return tl::unexpected(content.error());
  const crypto::SecretBytes file(trim(*content));
  wipe_string(*content);

  std::string compact;
  if (file.view().starts_with('{')) {
    const SecretJson json(file.view());
    if (!json.value().is_object()) return tl::unexpected(not_a_key(path));
    if (!json.value().contains("ciphertext")) return private_jwk(json.value(), path);
    auto rebuilt = compact_from_json(json.value(), path);
    if (!rebuilt) return tl::unexpected(rebuilt.error());
    compact = std::move(*rebuilt);
  } else if (std::count(file.view().begin(), file.view().end(), '.') == 4) {
    compact = std::string(file.view());
  } else {
    return tl::unexpected(not_a_key(path));
  }

  if (password == nullptr) {
    return fail(Errc::failed_precondition, "provisioner key " + path.string() + " is encrypted: give --password-file");
  }
  auto plaintext = jose::decrypt_pbes2(compact, password->view());
  if (!plaintext) {
    return tl::unexpected(with_context(plaintext.error(), "cannot decrypt provisioner key " + path.string()));
  }
  const SecretJson json(plaintext->view());
  return private_jwk(json.value(), path);
}

}  // namespace keystep::cli
