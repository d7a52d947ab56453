#include "cli/certificate_file.h"

#include "issuer/common/file.h"

namespace keystep::cli {

Result<crypto::Certificate> read_certificate_file(const std::filesystem::path& path) {
  auto content = common::read_file(path);
  if (!content) return tl::unexpected(content.error());
  auto cert =
      content->find("-----BEGIN") != std::string::npos
          ? crypto::Certificate::from_pem(*content)
          : crypto::Certificate::from_der(reinterpret_cast<const unsigned char*>(content->data()), content->size());
  if (!cert) return tl::unexpected(with_context(cert.error(), path.string()));
  return cert;
}

}  // namespace keystep::cli
