#include "issuer/provisioners/k8ssa/name_template.h"

namespace keystep::provisioners {

Result<std::optional<std::string>> expand_name_template(std::string_view name_template,
                                                        const NameTemplateValues& values) {
  std::string out;
  bool yields_name = true;
  std::size_t i = 0;
  while (i < name_template.size()) {
    const char c = name_template[i];
    if (c == '}') return fail(Errc::invalid_argument, "unexpected }");
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t close = name_template.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || name_template[close] != '}') {
      return fail(Errc::invalid_argument, "unclosed {");
    }
    const std::string_view placeholder = name_template.substr(i + 1, close - i - 1);
    std::string_view value;
    if (placeholder == "serviceAccount") value = values.service_account;
    else if (placeholder == "namespace") value = values.ns;
    else if (placeholder == "trustDomain") value = values.trust_domain;
    else if (placeholder == "podName") value = values.pod_name;
    else return fail(Errc::invalid_argument, "unknown placeholder {" + std::string(placeholder) + "}");
    if (value.empty()) yields_name = false;
    out += value;
    i = close + 1;
  }
  if (!yields_name) return std::optional<std::string>();
  return std::optional<std::string>(std::move(out));
}

}  // namespace keystep::provisioners
