#include "issuer/crypto/password.h"

#include "issuer/common/file.h"

namespace keystep::crypto {

Result<SecretBytes> read_password_file(const std::filesystem::path& path) {
  auto content = common::read_file(path, 64 * 1024);
  if (!content) return tl::unexpected(with_context(content.error(), "password file"));
  SecretBytes raw(*content);
  OPENSSL_cleanse(content->data(), content->size());
  std::string_view pw = raw.view();
  if (auto nl = pw.find_first_of("\r\n"); nl != std::string_view::npos) pw = pw.substr(0, nl);
  if (pw.empty()) return fail(Errc::invalid_argument, "password file " + path.string() + " is empty");
  return SecretBytes(pw);
}

}  // namespace keystep::crypto
