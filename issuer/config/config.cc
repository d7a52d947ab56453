#include "issuer/config/config.h"

#include <yaml-cpp/yaml.h>

#include "issuer/common/duration.h"
#include "issuer/common/file.h"
#include "issuer/config/issuer_spec.h"
#include "issuer/config/yaml_fields.h"

namespace keystep::config {
namespace {

using namespace fields;

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& value) {
  std::filesystem::path p(value);
  return p.is_absolute() ? p : (base / p).lexically_normal();
}

Result<storage::StorageConfig> parse_storage(const YAML::Node& node, const std::filesystem::path& base_dir) {
  storage::StorageConfig config;
  config.sqlite_path = base_dir / "keystep.db";
  if (!node || node.IsNull()) return config;
  if (auto s = only_keys(node, "storage", {"kind", "sqlitePath", "dsn", "passwordFile", "poolSize", "connectTimeout"});
      !s) {
    return tl::unexpected(s.error());
  }
  if (node["kind"]) {
    auto kind = scalar(node["kind"], "storage.kind");
    if (!kind) return tl::unexpected(kind.error());
    if (*kind == "sqlite") config.kind = storage::StorageConfig::Kind::sqlite;
    else if (*kind == "postgres") config.kind = storage::StorageConfig::Kind::postgres;
    else return bad("storage.kind", "must be sqlite or postgres");
  }
  if (node["sqlitePath"]) config.sqlite_path = resolve(base_dir, node["sqlitePath"].as<std::string>());
  if (node["dsn"]) {
    auto dsn = scalar(node["dsn"], "storage.dsn");
    if (!dsn) return tl::unexpected(dsn.error());
    config.dsn = *dsn;
  }
  if (node["passwordFile"] && !node["passwordFile"].as<std::string>().empty()) {
    config.password_file = resolve(base_dir, node["passwordFile"].as<std::string>());
  }
  if (node["poolSize"]) {
    int size = 0;
    if (!YAML::convert<int>::decode(node["poolSize"], size)) return bad("storage.poolSize", "must be a number");
    config.pool_size = size;
  }
  if (node["connectTimeout"]) {
    auto d = duration(node["connectTimeout"], "storage.connectTimeout");
    if (!d) return tl::unexpected(d.error());
    config.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (auto s = storage::validate(config); !s) return tl::unexpected(s.error());
  return config;
}

Result<CrlConfig> parse_crl(const YAML::Node& node) {
  CrlConfig crl;
  if (!node || node.IsNull()) return crl;
  if (auto s = only_keys(node, "crl", {"enabled", "cacheDuration", "renewPeriod", "idpURL", "distributionPoint"}); !s) {
    return tl::unexpected(s.error());
  }
  if (node["enabled"]) {
    auto b = boolean(node["enabled"], "crl.enabled");
    if (!b) return tl::unexpected(b.error());
    crl.enabled = *b;
  }
  bool renew_given = false;
  for (auto [key, field] : {std::pair{"cacheDuration", &crl.cache_duration}, std::pair{"renewPeriod", &crl.renew_period}}) {
    if (!node[key]) continue;
    auto d = duration(node[key], std::string("crl.") + key);
    if (!d) return tl::unexpected(d.error());
    if (d->count() <= 0) return bad(std::string("crl.") + key, "must be positive");
    *field = std::chrono::duration_cast<std::chrono::seconds>(*d);
    renew_given = renew_given || std::string_view(key) == "renewPeriod";
  }
  if (!renew_given) crl.renew_period = crl.cache_duration * 2 / 3;
  if (crl.renew_period > crl.cache_duration) return bad("crl.renewPeriod", "must not exceed crl.cacheDuration");
  if (node["idpURL"]) {
    auto url = scalar(node["idpURL"], "crl.idpURL");
    if (!url) return tl::unexpected(url.error());
    crl.idp_url = *url;
  }
  if (node["distributionPoint"]) {
    auto url = scalar(node["distributionPoint"], "crl.distributionPoint");
    if (!url) return tl::unexpected(url.error());
    crl.distribution_point = *url;
  }
  return crl;
}

}  // namespace

Result<std::pair<std::string, unsigned short>> split_host_port(std::string_view address) {
  std::string host;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return fail(Errc::invalid_argument, "\"" + std::string(address) + "\" is not host:port");
    }
    host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return fail(Errc::invalid_argument, "\"" + std::string(address) + "\" is not host:port");
    host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535) return fail(Errc::invalid_argument, "\"" + std::string(address) + "\" has an invalid port");
    value = value * 10 + (c - '0');
  }
  if (port.empty() || value > 65535) return fail(Errc::invalid_argument, "\"" + std::string(address) + "\" has an invalid port");
  return std::make_pair(host, static_cast<unsigned short>(value));
}

Result<Config> parse_config(std::string_view yaml, const std::filesystem::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument, std::string("config is not valid YAML: ") + e.what());
  }
  if (auto s = only_keys(root, "", {"address", "insecureAddress", "dnsNames", "logLevel", "ca", "claims", "policy",
                                     "backdate", "disableIssuedAtCheck", "tlsCertDuration", "provisioners", "storage",
                                     "crl", "ocsp", "aia"});
      !s) {
    return tl::unexpected(s.error());
  }
  Config config;
  try {
    if (root["address"]) {
      auto a = scalar(root["address"], "address");
      if (!a) return tl::unexpected(a.error());
      if (auto hp = split_host_port(*a); !hp) return bad("address", hp.error().message);
      config.address = *a;
    }
    if (root["insecureAddress"]) {
      auto a = scalar(root["insecureAddress"], "insecureAddress");
      if (!a) return tl::unexpected(a.error());
      if (auto hp = split_host_port(*a); !hp) return bad("insecureAddress", hp.error().message);
      config.insecure_address = *a;
    }
    auto storage = parse_storage(root["storage"], base_dir);
    if (!storage) return tl::unexpected(storage.error());
    config.storage = std::move(*storage);
    auto crl = parse_crl(root["crl"]);
    if (!crl) return tl::unexpected(crl.error());
    config.crl = std::move(*crl);
    // A CRL with an Issuing Distribution Point only covers leaves that name
    // the same point, so the IDP URL is also the leaves' default CDP.
    config.authority.distribution.crl =
        !config.crl.distribution_point.empty() ? config.crl.distribution_point : config.crl.idp_url;
    if (const YAML::Node ocsp = root["ocsp"]; ocsp && !ocsp.IsNull()) {
      if (auto s = only_keys(ocsp, "ocsp", {"validity"}); !s) return tl::unexpected(s.error());
      if (ocsp["validity"]) {
        auto d = duration(ocsp["validity"], "ocsp.validity");
        if (!d) return tl::unexpected(d.error());
        if (d->count() <= 0) return bad("ocsp.validity", "must be positive");
        config.ocsp_validity = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
    if (const YAML::Node aia = root["aia"]; aia && !aia.IsNull()) {
      if (auto s = only_keys(aia, "aia", {"ocsp", "caIssuers"}); !s) return tl::unexpected(s.error());
      for (auto [key, field] : {std::pair{"ocsp", &config.authority.distribution.ocsp},
                                std::pair{"caIssuers", &config.authority.distribution.ca_issuers}}) {
        if (!aia[key]) continue;
        auto url = scalar(aia[key], std::string("aia.") + key);
        if (!url) return tl::unexpected(url.error());
        *field = *url;
      }
    }
    if (root["logLevel"]) {
      auto l = scalar(root["logLevel"], "logLevel");
      if (!l) return tl::unexpected(l.error());
      if (*l != "debug" && *l != "info" && *l != "warn" && *l != "error") {
        return bad("logLevel", "must be debug, info, warn or error");
      }
      config.log_level = *l;
    }
    auto names = string_list(root["dnsNames"], "dnsNames");
    if (!names) return tl::unexpected(names.error());
    if (names->empty()) return bad("dnsNames", "at least one name is required");
    config.authority.dns_names = std::move(*names);

    const YAML::Node ca = root["ca"];
    if (!ca) return bad("ca", "is required (root, crt, key)");
    if (auto s = only_keys(ca, "ca", {"root", "crt", "key", "passwordFile"}); !s) return tl::unexpected(s.error());
    for (const char* key : {"root", "crt", "key"}) {
      if (!ca[key]) return bad(std::string("ca.") + key, "is required");
    }
    config.ca.root = resolve(base_dir, ca["root"].as<std::string>());
    config.ca.crt = resolve(base_dir, ca["crt"].as<std::string>());
    config.ca.key = resolve(base_dir, ca["key"].as<std::string>());
    if (ca["passwordFile"] && !ca["passwordFile"].as<std::string>().empty()) {
      config.ca.password_file = resolve(base_dir, ca["passwordFile"].as<std::string>());
    }
    // claims, policy, provisioners: the schema a StepClusterIssuer's spec shares.
    auto spec = parse_issuer_spec_yaml(root, "");
    if (!spec) return tl::unexpected(spec.error());
    config.authority.claims = spec->claims;
    config.authority.policy = std::move(spec->policy);
    config.authority.allow_ca = spec->allow_ca;
    config.authority.provisioners = std::move(spec->jwk);
    config.authority.k8ssa = std::move(spec->k8ssa);
    config.authority.acme = std::move(spec->acme);
    if (root["backdate"]) {
      auto d = duration(root["backdate"], "backdate");
      if (!d) return tl::unexpected(d.error());
      if (d->count() < 0) return bad("backdate", "must not be negative");
      config.authority.backdate = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    if (root["tlsCertDuration"]) {
      auto d = duration(root["tlsCertDuration"], "tlsCertDuration");
      if (!d) return tl::unexpected(d.error());
      auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(*d);
      if (lifetime < std::chrono::seconds(5)) return bad("tlsCertDuration", "must be at least 5s");
      config.tls_lifetime = lifetime;
    }
    if (root["disableIssuedAtCheck"]) {
      auto b = boolean(root["disableIssuedAtCheck"], "disableIssuedAtCheck");
      if (!b) return tl::unexpected(b.error());
      config.authority.disable_issued_at_check = *b;
    }
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument, std::string("config: ") + e.what());
  }
  return config;
}

Result<Config> load_config(const std::filesystem::path& path) {
  auto text = common::read_file(path, 1024 * 1024);
  if (!text) return tl::unexpected(text.error());
  auto dir = std::filesystem::absolute(path).parent_path();
  auto config = parse_config(*text, dir);
  if (!config) return tl::unexpected(with_context(config.error(), path.string()));
  return config;
}

}  // namespace keystep::config
