#include "cli/sign_response.h"

#include <string>

#include "issuer/crypto/key.h"

namespace keystep::cli {

Result<std::vector<crypto::Certificate>> chain_from_sign_response(const nlohmann::json& response, EVP_PKEY* key) {
  std::string bundle;
  auto append = [&bundle](const nlohmann::json& pem) {
    if (pem.is_string()) bundle += pem.get_ref<const std::string&>() + "\n";
  };
  if (auto it = response.find("certChain"); it != response.end() && it->is_array()) {
    for (const auto& pem : *it) append(pem);
  }
  if (bundle.empty()) {
    for (const char* member : {"crt", "ca"}) {
      if (response.contains(member)) append(response[member]);
    }
  }
  auto chain = crypto::Certificate::chain_from_pem(bundle);
  if (!chain) return tl::unexpected(with_context(chain.error(), "the CA's answer holds no certificate chain"));
  if (!crypto::same_public_key(chain->front().public_key(), key)) {
    return fail(Errc::internal, "the CA's certificate is not for the key it was asked to certify");
  }
  return chain;
}

}  // namespace keystep::cli
