#pragma once
// Name templates turn a reviewed service-account identity into certificate
// names: "{serviceAccount}.{namespace}.svc" -> "app.team.svc". The only
// placeholders are {serviceAccount}, {namespace}, {trustDomain} and
// {podName}; there is no escaping, so a template holds no other braces.

#include <optional>
#include <string>
#include <string_view>

#include "issuer/common/error.h"

namespace keystep::provisioners {

struct NameTemplateValues {
  std::string_view service_account;
  std::string_view ns;
  std::string_view trust_domain;
  std::string_view pod_name;  // empty for unbound tokens
};

// expand_name_template substitutes every placeholder. A placeholder whose
// value is empty (podName of an unbound token) makes the template yield no
// name: nullopt. Malformed templates are invalid_argument:
// "unknown placeholder {foo}", "unclosed {", "unexpected }".
[[nodiscard]] Result<std::optional<std::string>> expand_name_template(std::string_view name_template,
                                                                      const NameTemplateValues& values);

}  // namespace keystep::provisioners
