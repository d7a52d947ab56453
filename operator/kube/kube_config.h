#pragma once
// KubeConfig is how to reach and authenticate to a kube-apiserver: from a
// kubeconfig file (the current context, or a named one) or from the
// in-cluster service-account mount. The bearer token of an in-cluster
// config is a file path, re-read by the client before each request so a
// rotated bound token keeps working; a kubeconfig token is a value.
// Certificates and keys are PEM text, whether the kubeconfig gave data or a
// file. Never log token or client_key_pem.

#include <filesystem>
#include <optional>
#include <string>

#include "issuer/common/error.h"
#include "issuer/crypto/secret_bytes.h"

namespace keystep::kube {

struct KubeConfig {
  std::string server;                   // https://host:port (no trailing slash)
  std::string ca_pem;                   // trust anchors of the API server; "" = system store
  bool insecure_skip_tls_verify = false;
  crypto::SecretBytes token;            // bearer token; empty if none
  std::filesystem::path token_file;     // re-read per request when set (in-cluster, tokenFile)
  std::string client_cert_pem;          // client certificate chain; "" if none
  crypto::SecretBytes client_key_pem;
  std::string namespace_;               // the context's namespace, or the pod's; default "default"
  std::string impersonate_user;         // Impersonate-User header; "" = none (act as the credential)
};

// load_kubeconfig reads a kubeconfig (YAML): `context` names the context,
// "" means current-context. Relative file paths are against the file's
// directory. Missing fields and unsupported auth (exec, auth-provider) are
// invalid_argument naming the field.
[[nodiscard]] Result<KubeConfig> load_kubeconfig(const std::filesystem::path& path, const std::string& context = "");

// in_cluster_config reads KUBERNETES_SERVICE_HOST/PORT from the environment
// and token, ca.crt and namespace from `mount_dir` (default
// /var/run/secrets/kubernetes.io/serviceaccount). failed_precondition when
// not in a cluster.
[[nodiscard]] Result<KubeConfig> in_cluster_config(
    const std::filesystem::path& mount_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// resolve_config picks, in order: an explicit kubeconfig path, $KUBECONFIG,
// in-cluster, ~/.kube/config. The in-cluster files are read from
// $KEYSTEP_SERVICE_ACCOUNT_DIR when set (a token projected elsewhere),
// else from the standard mount.
[[nodiscard]] Result<KubeConfig> resolve_config(const std::filesystem::path& kubeconfig_flag, const std::string& context = "");

}  // namespace keystep::kube
