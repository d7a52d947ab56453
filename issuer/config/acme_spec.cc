#include "issuer/config/acme_spec.h"

#include <algorithm>
#include <charconv>

#include "issuer/common/base64.h"
#include "issuer/config/yaml_fields.h"

namespace keystep::config {
namespace {

using namespace fields;

Result<unsigned short> port(const YAML::Node& node, const std::string& path) {
  auto text = scalar(node, path);
  if (!text) return tl::unexpected(text.error());
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value == 0 || value > 65535) {
    return bad(path, "\"" + *text + "\" is not a port (1-65535)");
  }
  return static_cast<unsigned short>(value);
}

Status parse_validation(const YAML::Node& node, const std::string& path, acme::ValidationOptions& out) {
  if (auto s = only_keys(node, path, {"http01Port", "tlsALPN01Port", "dnsResolver", "timeout", "attempts", "backoff"});
      !s) {
    return s;
  }
  if (node["http01Port"]) {
    auto p = port(node["http01Port"], child(path, "http01Port"));
    if (!p) return tl::unexpected(p.error());
    out.http01_port = *p;
  }
  if (node["tlsALPN01Port"]) {
    auto p = port(node["tlsALPN01Port"], child(path, "tlsALPN01Port"));
    if (!p) return tl::unexpected(p.error());
    out.tls_alpn01_port = *p;
  }
  if (node["dnsResolver"]) {
    auto r = scalar(node["dnsResolver"], child(path, "dnsResolver"));
    if (!r) return tl::unexpected(r.error());
    out.dns_resolver = *r;
  }
  if (node["timeout"]) {
    auto d = duration(node["timeout"], child(path, "timeout"));
    if (!d) return tl::unexpected(d.error());
    if (*d < std::chrono::seconds(1)) return bad(child(path, "timeout"), "must be at least 1s");
    out.timeout = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (node["backoff"]) {
    auto d = duration(node["backoff"], child(path, "backoff"));
    if (!d) return tl::unexpected(d.error());
    if (d->count() < 0) return bad(child(path, "backoff"), "must not be negative");
    out.backoff = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (node["attempts"]) {
    auto text = scalar(node["attempts"], child(path, "attempts"));
    if (!text) return tl::unexpected(text.error());
    int value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > 20) {
      return bad(child(path, "attempts"), "\"" + *text + "\" is not a number from 1 to 20");
    }
    out.attempts = value;
  }
  return ok();
}

Status parse_eab(const YAML::Node& node, const std::string& path, acme::AcmeProvisionerConfig& out) {
  if (auto s = only_keys(node, path, {"keys"}); !s) return s;
  const YAML::Node keys = node["keys"];
  const std::string keys_path = child(path, "keys");
  if (!keys || !keys.IsSequence() || keys.size() == 0) return bad(keys_path, "must list at least one key");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string item = index(keys_path, i);
    if (auto s = only_keys(keys[i], item, {"keyID", "hmacKey"}); !s) return s;
    auto id = scalar(keys[i]["keyID"], child(item, "keyID"));
    if (!id) return tl::unexpected(id.error());
    if (id->empty()) return bad(child(item, "keyID"), "is required");
    if (std::any_of(out.eab_keys.begin(), out.eab_keys.end(), [&](const auto& k) { return k.key_id == *id; })) {
      return bad(child(item, "keyID"), "\"" + *id + "\" is listed twice");
    }
    auto text = scalar(keys[i]["hmacKey"], child(item, "hmacKey"));
    if (!text) return tl::unexpected(text.error());
    auto raw = common::base64url_decode(*text);
    if (!raw) return bad(child(item, "hmacKey"), "is not base64url");
    if (raw->size() < 16) return bad(child(item, "hmacKey"), "must hold at least 16 bytes (128 bits)");
    out.eab_keys.push_back({*id, common::to_string(*raw)});
  }
  out.require_eab = true;
  return ok();
}

}  // namespace

Result<acme::AcmeProvisionerConfig> parse_acme_provisioner(const YAML::Node& node, const std::string& path,
                                                           std::string name) {
  acme::AcmeProvisionerConfig p;
  p.name = std::move(name);
  if (node["challenges"]) {
    auto list = string_list(node["challenges"], child(path, "challenges"));
    if (!list) return tl::unexpected(list.error());
    if (list->empty()) return bad(child(path, "challenges"), "must name at least one challenge type");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& c = (*list)[i];
      if (c != acme::kHttp01 && c != acme::kDns01 && c != acme::kTlsAlpn01) {
        return bad(index(child(path, "challenges"), i), "\"" + c + "\" is not http-01, dns-01 or tls-alpn-01");
      }
    }
    p.challenges = std::move(*list);
  }
  for (auto [key, field] : {std::pair{"termsOfService", &p.terms_of_service}, std::pair{"website", &p.website}}) {
    if (!node[key]) continue;
    auto v = scalar(node[key], child(path, key));
    if (!v) return tl::unexpected(v.error());
    *field = *v;
  }
  auto caa = string_list(node["caaIdentities"], child(path, "caaIdentities"));
  if (!caa) return tl::unexpected(caa.error());
  p.caa_identities = std::move(*caa);
  if (node["forceCN"]) {
    auto b = boolean(node["forceCN"], child(path, "forceCN"));
    if (!b) return tl::unexpected(b.error());
    p.force_cn = *b;
  }
  if (node["orderLifetime"]) {
    auto d = duration(node["orderLifetime"], child(path, "orderLifetime"));
    if (!d) return tl::unexpected(d.error());
    if (*d < std::chrono::minutes(1)) return bad(child(path, "orderLifetime"), "must be at least 1m");
    p.order_lifetime = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (node["externalAccountBinding"] && !node["externalAccountBinding"].IsNull()) {
    if (auto s = parse_eab(node["externalAccountBinding"], child(path, "externalAccountBinding"), p); !s) {
      return tl::unexpected(s.error());
    }
  }
  if (node["validation"] && !node["validation"].IsNull()) {
    if (auto s = parse_validation(node["validation"], child(path, "validation"), p.validation); !s) {
      return tl::unexpected(s.error());
    }
  }
  return p;
}

}  // namespace keystep::config
