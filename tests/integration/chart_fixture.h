#pragma once
// Rendering the Helm chart for tests: hack/chart-render.sh (Go text/template
// + sprig with helm's helpers, from Debian packages: there is no helm here)
// and the YAML documents it prints.

#include <chrono>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/integration/harness.h"
#include "tests/support/kube_apiserver.h"

namespace keystep::integration {

// render_chart runs hack/chart-render.sh on charts/keystep as release
// "keystep" in namespace ns, with more flags (--set, -f).
inline RunResult render_chart(const std::string& ns, const std::vector<std::string>& flags) {
  const auto source = keystep::testing::KubeApiServer::source_dir();
  std::vector<std::string> argv = {(source / "hack" / "chart-render.sh").string(),
                                   (source / "charts" / "keystep").string(),
                                   "--release", "keystep", "--namespace", ns};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return run(argv, "", std::chrono::seconds(900));  // a cold build of the renderer takes a while
}

// documents splits a rendered stream into its YAML documents.
inline std::vector<YAML::Node> documents(const std::string& stream) {
  std::vector<YAML::Node> out;
  for (const auto& doc : YAML::LoadAll(stream)) {
    if (doc.IsMap()) out.push_back(doc);
  }
  return out;
}

// find_kind is the first document of that kind (and name), or an undefined node.
inline YAML::Node find_kind(const std::vector<YAML::Node>& docs, const std::string& kind,
                            const std::string& name = "") {
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>("") == kind && (name.empty() || d["metadata"]["name"].as<std::string>("") == name)) {
      return d;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// replace_all replaces every `from` in text, e.g. an in-pod path of the
// rendered keystep.yaml with a local one.
inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

inline std::string emit(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return e.c_str();
}

}  // namespace keystep::integration
