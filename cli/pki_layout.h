#pragma once
// PkiLayout is the folder `keystep init --out DIR` writes, step-ca style.

#include <filesystem>
#include <string>

namespace keystep::cli {

struct PkiLayout {
  std::filesystem::path dir;
  [[nodiscard]] std::filesystem::path root_cert() const { return dir / "certs" / "root_ca.crt"; }
  [[nodiscard]] std::filesystem::path root_key() const { return dir / "secrets" / "root_ca_key"; }
  [[nodiscard]] std::filesystem::path intermediate_cert() const { return dir / "certs" / "intermediate_ca.crt"; }
  [[nodiscard]] std::filesystem::path intermediate_csr() const { return dir / "certs" / "intermediate_ca.csr"; }
  [[nodiscard]] std::filesystem::path intermediate_key() const { return dir / "secrets" / "intermediate_ca_key"; }
  [[nodiscard]] std::filesystem::path provisioner_key(const std::string& name) const {
    return dir / "secrets" / (name + ".jwk");
  }
  [[nodiscard]] std::filesystem::path config() const { return dir / "config" / "keystep.yaml"; }
  [[nodiscard]] std::filesystem::path secret_manifest() const {
    return dir / "kubernetes" / "intermediate-secret.yaml";
  }
};

}  // namespace keystep::cli
