#include "tests/integration/ca_fixture.h"

namespace keystep::integration {

namespace fs = std::filesystem;

fs::path password_file(const TempDir& tmp) {
  fs::path file = tmp / "password.txt";
  if (!fs::exists(file)) write_text(file, std::string(kPassword) + "\n");
  return file;
}

std::vector<std::string> init_args(const TempDir& tmp, const fs::path& out, const InitOptions& options) {
  std::vector<std::string> args{"init", "--name", options.name, "--dns", options.dns};
  args.insert(args.end(), {"--address", "127.0.0.1:0", "--provisioner", "admin", "--out", out.string()});
  if (options.password) {
    args.insert(args.end(), {"--password-file", password_file(tmp).string()});
  } else {
    args.push_back("--no-password");
  }
  args.insert(args.end(), options.extra.begin(), options.extra.end());
  return args;
}

const RunResult& require_ok(const RunResult& result, const std::string& what) {
  if (result.exit_code != 0) throw HarnessError(what + " failed: " + result.describe());
  return result;
}

Pki init_pki(const TempDir& tmp, const std::string& subdir, const InitOptions& options) {
  Pki pki{.dir = tmp / subdir, .password_file = options.password ? password_file(tmp) : fs::path()};
  require_ok(keystep(init_args(tmp, pki.dir, options)), "keystep init");
  return pki;
}

ServerProcess::Options serve_options(const Pki& pki) {
  return {.config = pki.config(), .password_file = pki.password_file};
}

std::vector<std::string> ca_certificate_args(const Pki& pki, const ServerProcess& server, const std::string& subject,
                                             const fs::path& crt, const fs::path& key,
                                             const std::vector<std::string>& extra) {
  std::vector<std::string> args{"ca", "certificate", subject, crt.string(), key.string()};
  args.insert(args.end(), {"--ca-url", server.url(), "--root", pki.root_cert().string()});
  args.insert(args.end(), {"--provisioner", pki.provisioner, "--provisioner-key", pki.provisioner_key().string()});
  if (!pki.password_file.empty()) args.insert(args.end(), {"--password-file", pki.password_file.string()});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

fs::path get_certificate(const Pki& pki, const ServerProcess& server, const fs::path& dir, const std::string& subject,
                         const std::vector<std::string>& extra) {
  const fs::path crt = dir / (subject + ".crt");
  require_ok(keystep(ca_certificate_args(pki, server, subject, crt, dir / (subject + ".key"), extra)),
             "keystep ca certificate " + subject);
  return crt;
}

void append_provisioner(const fs::path& config, const std::string& name, const nlohmann::json& public_jwk,
                        const std::string& encrypted_key) {
  std::string text = read_text(config);
  if (text.find("\nprovisioners:\n") == std::string::npos) {
    throw HarnessError(config.string() + " has no provisioners list to append to");
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  // JSON is YAML: the key and quoted strings go in as JSON.
  text += "  - name: " + nlohmann::json(name).dump() + "\n    type: JWK\n    key: " + public_jwk.dump() + "\n";
  if (!encrypted_key.empty()) text += "    encryptedKey: " + nlohmann::json(encrypted_key).dump() + "\n";
  write_text(config, text);
}

CaHttp::CaHttp(const ServerProcess& server, const Pki& pki) : url_(server.url()) {
  options_.root_pem = read_text(pki.root_cert());
  options_.timeout = std::chrono::seconds(30);
}

http::ClientResponse CaHttp::call(const std::string& method, const std::string& path, const std::string& body,
                                  const http::HeaderList& headers) const {
  auto response = http::request(options_, method, url_ + path, body, headers);
  if (!response) throw HarnessError(method + " " + url_ + path + " failed: " + response.error().message);
  return std::move(*response);
}

http::ClientResponse CaHttp::get(const std::string& path, const http::HeaderList& headers) const {
  return call("GET", path, "", headers);
}

http::ClientResponse CaHttp::head(const std::string& path) const { return call("HEAD", path, "", {}); }

http::ClientResponse CaHttp::post(const std::string& path, const std::string& body,
                                  const http::HeaderList& headers) const {
  return call("POST", path, body, headers);
}

http::ClientResponse CaHttp::post_sign(const nlohmann::json& body) const {
  return post("/1.0/sign", body.dump(), {{"Content-Type", "application/json"}});
}

nlohmann::json json_body(const http::ClientResponse& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded()) {
    throw HarnessError("response " + std::to_string(response.status) + " is not JSON: " + response.body);
  }
  return json;
}

}  // namespace keystep::integration
