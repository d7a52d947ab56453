#include "operator/kube/kube_config.h"

#include <cstdlib>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "issuer/common/base64.h"
#include "issuer/common/file.h"
#include "issuer/common/log.h"

namespace keystep::kube {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxKubeconfigBytes = 1024 * 1024;

std::string trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// Entry finds the element named `name` of a kubeconfig list (clusters,
// users, contexts) and returns its inner map (cluster, user, context).
Result<YAML::Node> entry(const YAML::Node& root, const std::string& list, const std::string& inner,
                         const std::string& name) {
  const YAML::Node items = root[list];
  if (items && items.IsSequence()) {
    for (const auto& item : items) {
      if (item["name"] && item["name"].as<std::string>() == name) {
        const YAML::Node body = item[inner];
        if (!body || !body.IsMap()) {
          return fail(Errc::invalid_argument, list + "[" + name + "]." + inner + ": required");
        }
        return body;
      }
    }
  }
  return fail(Errc::invalid_argument, list + "[" + name + "]: not found");
}

std::string scalar(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.as<std::string>() : std::string();
}

fs::path resolve(const fs::path& base_dir, const std::string& file) {
  fs::path p(file);
  return p.is_absolute() ? p : base_dir / p;
}

// data_or_file reads `<field>-data` (base64) or `<field>` (a path), as
// kubeconfig spells certificate-authority, client-certificate, client-key.
Result<std::string> data_or_file(const YAML::Node& map, const std::string& field, const fs::path& base_dir,
                                 const std::string& where) {
  const std::string data = scalar(map, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = common::base64_decode(trim(data));
    if (!decoded) return fail(Errc::invalid_argument, where + "." + field + "-data: " + decoded.error().message);
    return common::to_string(*decoded);
  }
  const std::string file = scalar(map, field.c_str());
  if (file.empty()) return std::string();
  auto content = common::read_file(resolve(base_dir, file));
  if (!content) {
    return fail(Errc::invalid_argument, where + "." + field + ": " + content.error().message);
  }
  return content;
}

Result<KubeConfig> parse_kubeconfig(const YAML::Node& root, const fs::path& base_dir, const std::string& context) {
  std::string context_name = context.empty() ? scalar(root, "current-context") : context;
  if (context_name.empty()) return fail(Errc::invalid_argument, "current-context: required");
  auto ctx = entry(root, "contexts", "context", context_name);
  if (!ctx) return tl::unexpected(ctx.error());

  const std::string ctx_where = "contexts[" + context_name + "].context";
  const std::string cluster_name = scalar(*ctx, "cluster");
  if (cluster_name.empty()) return fail(Errc::invalid_argument, ctx_where + ".cluster: required");
  const std::string user_name = scalar(*ctx, "user");

  KubeConfig config;
  config.namespace_ = scalar(*ctx, "namespace");
  if (config.namespace_.empty()) config.namespace_ = "default";

  auto cluster = entry(root, "clusters", "cluster", cluster_name);
  if (!cluster) return tl::unexpected(cluster.error());
  const std::string cl_where = "clusters[" + cluster_name + "].cluster";
  config.server = scalar(*cluster, "server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) return fail(Errc::invalid_argument, cl_where + ".server: required");
  if ((*cluster)["insecure-skip-tls-verify"]) {
    config.insecure_skip_tls_verify = (*cluster)["insecure-skip-tls-verify"].as<bool>();
  }
  auto ca = data_or_file(*cluster, "certificate-authority", base_dir, cl_where);
  if (!ca) return tl::unexpected(ca.error());
  config.ca_pem = std::move(*ca);

  if (user_name.empty()) return config;  // anonymous
  auto user = entry(root, "users", "user", user_name);
  if (!user) return tl::unexpected(user.error());
  const std::string u_where = "users[" + user_name + "].user";
  for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
    if ((*user)[unsupported]) {
      return fail(Errc::invalid_argument, u_where + "." + unsupported + ": not supported; use a token, " +
                                              "tokenFile or client certificate");
    }
  }
  config.token = crypto::SecretBytes(scalar(*user, "token"));
  if (std::string file = scalar(*user, "tokenFile"); !file.empty()) {
    config.token_file = resolve(base_dir, file);
  }
  auto cert = data_or_file(*user, "client-certificate", base_dir, u_where);
  if (!cert) return tl::unexpected(cert.error());
  config.client_cert_pem = std::move(*cert);
  auto key = data_or_file(*user, "client-key", base_dir, u_where);
  if (!key) return tl::unexpected(key.error());
  config.client_key_pem = crypto::SecretBytes(*key);
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return fail(Errc::invalid_argument, u_where + ": client-certificate and client-key must be given together");
  }
  config.impersonate_user = scalar(*user, "as");
  return config;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

Result<KubeConfig> load_kubeconfig(const fs::path& path, const std::string& context) {
  auto text = common::read_file(path, kMaxKubeconfigBytes);
  if (!text) return fail(Errc::invalid_argument, "kubeconfig: " + text.error().message);
  try {
    YAML::Node root = YAML::Load(*text);
    if (!root.IsMap()) return fail(Errc::invalid_argument, "kubeconfig " + path.string() + ": not a YAML map");
    auto config = parse_kubeconfig(root, fs::absolute(path).parent_path(), context);
    if (!config) return tl::unexpected(with_context(config.error(), "kubeconfig " + path.string()));
    return config;
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument, "kubeconfig " + path.string() + ": " + e.what());
  }
}

Result<KubeConfig> in_cluster_config(const fs::path& mount_dir) {
  const std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return fail(Errc::failed_precondition,
                "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  std::error_code ec;
  const fs::path token_file = mount_dir / "token";
  if (!fs::is_regular_file(token_file, ec)) {
    return fail(Errc::failed_precondition, "not in a cluster: no service-account token at " + token_file.string());
  }
  KubeConfig config;
  const bool is_ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  config.server = "https://" + (is_ipv6 ? "[" + host + "]" : host) + ":" + port;
  config.token_file = token_file;

  auto ca = common::read_file(mount_dir / "ca.crt");
  if (ca) {
    config.ca_pem = std::move(*ca);
  } else {
    common::logger("kube")->warn("in-cluster ca.crt unreadable, using system trust store error={}",
                                 ca.error().message);
  }
  auto ns = common::read_file(mount_dir / "namespace");
  config.namespace_ = ns ? trim(*ns) : std::string();
  if (config.namespace_.empty()) config.namespace_ = "default";
  return config;
}

Result<KubeConfig> resolve_config(const fs::path& kubeconfig_flag, const std::string& context) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);
  if (std::string list = env("KUBECONFIG"); !list.empty()) {
    // Merging several files is not supported: the first one is used.
    std::string first = list.substr(0, list.find(':'));
    if (!first.empty()) return load_kubeconfig(first, context);
  }
  const std::string mount_dir = env("KEYSTEP_SERVICE_ACCOUNT_DIR");
  auto in_cluster = mount_dir.empty() ? in_cluster_config() : in_cluster_config(mount_dir);
  if (in_cluster || in_cluster.error().code != Errc::failed_precondition) return in_cluster;
  if (std::string home = env("HOME"); !home.empty()) {
    fs::path fallback = fs::path(home) / ".kube" / "config";
    std::error_code ec;
    if (fs::exists(fallback, ec)) return load_kubeconfig(fallback, context);
  }
  return fail(Errc::failed_precondition,
              "no Kubernetes config: pass a kubeconfig, set KUBECONFIG, run in a cluster, or create ~/.kube/config");
}

}  // namespace keystep::kube
