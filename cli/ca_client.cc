#include "cli/ca_client.h"

#include <utility>

#include <openssl/crypto.h>

#include "issuer/api/routes.h"
#include "issuer/common/file.h"
#include "issuer/http/url.h"

namespace keystep::cli {
namespace {

// A CA's message is shown to the user: one line, bounded, no control bytes
// that could rewrite the terminal.
constexpr std::size_t kMaxShownMessage = 300;

std::string one_clean_line(std::string_view text) {
  auto end = text.find_first_of("\r\n");
  text = text.substr(0, end);
  std::string out;
  for (char c : text.substr(0, kMaxShownMessage)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (text.size() > kMaxShownMessage) out += "...";
  return out;
}

}  // namespace

FlagSpec ca_url_flag() { return {.name = "ca-url", .help = "URL of the CA, https://HOST[:PORT] (required)"}; }

FlagSpec root_flag(std::string help) { return {.name = "root", .help = std::move(help)}; }

Result<std::string> read_ca_url(const Args& args) {
  auto ca_url = args.required("ca-url");
  if (!ca_url) return ca_url;
  auto url = http::parse_url(*ca_url);
  if (!url) return fail(Errc::invalid_argument, "flag --ca-url: " + url.error().message);
  if (!url->is_https()) {
    return fail(Errc::invalid_argument, "flag --ca-url: \"" + *ca_url + "\" is not an https:// URL");
  }
  return ca_url;
}

Result<std::vector<crypto::Certificate>> read_roots(const std::string& path) {
  auto pem = common::read_file(path);
  if (!pem) return tl::unexpected(pem.error());
  auto roots = crypto::Certificate::chain_from_pem(*pem);
  if (!roots) return tl::unexpected(with_context(roots.error(), "root file " + path));
  return roots;
}

Result<CaFlags> read_ca_flags(const Args& args) {
  auto ca_url = read_ca_url(args);
  if (!ca_url) return tl::unexpected(ca_url.error());
  auto root_file = args.required("root");
  if (!root_file) return tl::unexpected(root_file.error());
  return CaFlags{.ca_url = *ca_url, .root_file = *root_file};
}

std::string endpoint_url(std::string_view ca_url, std::string_view path) {
  auto scheme_end = ca_url.find("://");
  std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto authority_end = ca_url.find_first_of("/?#", authority_start);
  return std::string(ca_url.substr(0, authority_end)) + std::string(path);
}

std::string json_string(const nlohmann::json& json, const std::string& name) {
  if (!json.is_object()) return {};
  auto it = json.find(name);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string refusal_message(int status, std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message(body);
  if (json.is_object()) {
    // step-ca's {"status","message"}, else an ACME problem's "detail".
    message = json_string(json, "message");
    if (message.empty()) message = json_string(json, "detail");
  }
  message = one_clean_line(message);
  if (message.empty()) message = "(no message)";
  return "the CA refused the request: " + std::to_string(status) + " " + message;
}

CaClient::CaClient(std::string ca_url, std::string root_pem, bool insecure)
    : ca_url_(std::move(ca_url)), root_pem_(std::move(root_pem)), insecure_(insecure) {}

CaClient CaClient::verified(std::string ca_url, const std::vector<crypto::Certificate>& roots) {
  return CaClient(std::move(ca_url), crypto::chain_to_pem(roots), false);
}

Result<CaClient> CaClient::verified(const CaFlags& flags) {
  auto roots = read_roots(flags.root_file);
  if (!roots) return tl::unexpected(roots.error());
  return verified(flags.ca_url, *roots);
}

CaClient CaClient::insecure(std::string ca_url) { return CaClient(std::move(ca_url), "", true); }

CaClient CaClient::plain_http(std::string ca_url) { return CaClient(std::move(ca_url), "", false); }

CaClient CaClient::with_client_certificate(std::string chain_pem, const crypto::SecretBytes& key_pem) const {
  CaClient copy = *this;
  copy.client_chain_pem_ = std::move(chain_pem);
  copy.client_key_pem_ = std::make_shared<const crypto::SecretBytes>(key_pem.view());
  return copy;
}

CaClient CaClient::with_bearer_token(std::string token) const {
  CaClient copy = *this;
  copy.bearer_token_ = std::make_shared<const crypto::SecretBytes>(token);
  OPENSSL_cleanse(token.data(), token.size());
  return copy;
}

Result<nlohmann::json> CaClient::get_json(std::string_view path) const { return call("GET", path, ""); }

Result<nlohmann::json> CaClient::post_json(std::string_view path, const nlohmann::json& body) const {
  return call("POST", path, body.dump());
}

Result<std::string> CaClient::get_body(std::string_view path) const {
  auto response = send("GET", path, "");
  if (!response) return tl::unexpected(response.error());
  return std::move(response->body);
}

Result<http::ClientResponse> CaClient::send(std::string_view method, std::string_view path,
                                            std::string_view body) const {
  http::ClientOptions options;
  options.root_pem = root_pem_;
  options.insecure = insecure_;
  options.user_agent = std::string("keystep/") + api::kVersion;
  options.client_chain_pem = client_chain_pem_;
  if (client_key_pem_) options.client_key_pem = std::string(client_key_pem_->view());
  http::HeaderList headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  if (bearer_token_) {
    std::string authorization = "Bearer ";
    authorization.append(bearer_token_->view());
    headers.emplace_back("Authorization", std::move(authorization));
  }
  const std::string url = endpoint_url(ca_url_, path);
  auto response = http::request(options, method, url, body, headers);
  // The copies of the key and the token are wiped; the shared ones stay.
  OPENSSL_cleanse(options.client_key_pem.data(), options.client_key_pem.size());
  for (auto& [name, value] : headers) OPENSSL_cleanse(value.data(), value.size());
  if (!response) return tl::unexpected(response.error());
  if (response->status >= 400) {
    return fail(Errc::failed_precondition, refusal_message(response->status, response->body));
  }
  if (response->status < 200 || response->status >= 300) {
    return fail(Errc::unavailable, std::string(method) + " " + url + " answered with the unexpected status " +
                                       std::to_string(response->status));
  }
  return response;
}

Result<nlohmann::json> CaClient::call(std::string_view method, std::string_view path, std::string_view body) const {
  auto response = send(method, path, body);
  if (!response) return tl::unexpected(response.error());
  auto json = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return fail(Errc::invalid_argument, std::string(method) + " " + endpoint_url(ca_url_, path) +
                                            " answered with a body that is not JSON");
  }
  return json;
}

}  // namespace keystep::cli
