#include "issuer/acme/identifier.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

namespace keystep::acme {
namespace {

bool is_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// is_hostname: lowercase LDH labels, at most 253 characters, and not all
// digits in the last label (that would be an address). Single-label names
// ("db", "localhost") are allowed: they are common inside a private network.
bool is_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::string_view last;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    last = name.substr(start, dot - start);
    if (!is_label(last)) return false;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

Problem rejected_one(const Identifier& id, std::string why) {
  Problem sub = rejected_identifier(std::move(why));
  sub.identifier = id.to_json();
  return sub;
}

}  // namespace

std::optional<std::string> canonical_ip(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
  return std::nullopt;
}

tl::expected<Identifier, Problem> parse_identifier(const nlohmann::json& item) {
  if (!item.is_object() || !item.contains("type") || !item.contains("value") || !item["type"].is_string() ||
      !item["value"].is_string()) {
    return tl::unexpected(malformed("an identifier must be an object with string members type and value"));
  }
  Identifier id{item["type"].get<std::string>(), item["value"].get<std::string>()};
  if (id.type == "dns") {
    std::transform(id.value.begin(), id.value.end(), id.value.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!id.value.empty() && id.value.back() == '.') id.value.pop_back();
    const std::string name = id.authorized_value();
    if (canonical_ip(id.value)) {
      return tl::unexpected(rejected_one(id, "\"" + id.value + "\" is an IP address: use an identifier of type ip"));
    }
    if (!is_hostname(name)) {
      return tl::unexpected(rejected_one(id, "\"" + id.value + "\" is not a valid DNS name"));
    }
    return id;
  }
  if (id.type == "ip") {
    auto ip = canonical_ip(id.value);
    if (!ip) return tl::unexpected(rejected_one(id, "\"" + id.value + "\" is not an IP address"));
    id.value = *ip;
    return id;
  }
  Problem p = unsupported_identifier("identifier type \"" + id.type + "\" is not supported (use dns or ip)");
  p.identifier = id.to_json();
  return tl::unexpected(std::move(p));
}

tl::expected<std::vector<Identifier>, Problem> parse_identifiers(const nlohmann::json& list) {
  if (!list.is_array() || list.empty()) return tl::unexpected(malformed("identifiers must be a non-empty array"));
  if (list.size() > kMaxIdentifiers) {
    return tl::unexpected(rejected_identifier("an order may have at most " + std::to_string(kMaxIdentifiers) +
                                              " identifiers"));
  }
  std::vector<Identifier> out;
  std::vector<Problem> problems;
  for (const auto& item : list) {
    auto id = parse_identifier(item);
    if (!id) {
      if (id.error().identifier.is_null()) return tl::unexpected(id.error());
      problems.push_back(std::move(id.error()));
      continue;
    }
    if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(std::move(*id));
  }
  if (!problems.empty()) {
    const bool unsupported = std::all_of(problems.begin(), problems.end(),
                                         [](const Problem& p) { return p.type == "unsupportedIdentifier"; });
    Problem p = unsupported ? unsupported_identifier("") : rejected_identifier("");
    p.detail = problems.size() == 1 ? problems.front().detail
                                    : std::to_string(problems.size()) + " identifiers were rejected";
    p.subproblems = std::move(problems);
    return tl::unexpected(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.type, a.value) < std::tie(b.type, b.value);
  });
  return out;
}

std::optional<Problem> check_csr(const crypto::Csr& csr, const std::vector<Identifier>& identifiers) {
  std::set<std::string> want_dns, want_ip, got_dns, got_ip;
  for (const auto& id : identifiers) (id.type == "dns" ? want_dns : want_ip).insert(id.value);
  const auto& sans = csr.sans();
  if (!sans.emails.empty() || !sans.uris.empty()) {
    return bad_csr("the CSR names email addresses or URIs; an ACME order covers DNS names and IP addresses only");
  }
  for (std::string name : sans.dns) {
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    got_dns.insert(name);
  }
  for (const auto& ip : sans.ips) {
    auto c = canonical_ip(ip);
    got_ip.insert(c ? *c : ip);
  }
  if (!csr.common_name().empty()) {
    std::string cn = csr.common_name();
    std::transform(cn.begin(), cn.end(), cn.begin(), [](unsigned char c) { return std::tolower(c); });
    if (auto ip = canonical_ip(cn)) {
      got_ip.insert(*ip);
    } else {
      got_dns.insert(cn);
    }
  }
  auto describe = [](const std::set<std::string>& extra, const char* what) {
    std::string out;
    for (const auto& e : extra) out += (out.empty() ? "" : ", ") + e;
    return std::string(what) + " " + out;
  };
  std::set<std::string> extra, missing;
  for (const auto* pair : {&got_dns, &got_ip}) {
    const auto& want = pair == &got_dns ? want_dns : want_ip;
    std::set_difference(pair->begin(), pair->end(), want.begin(), want.end(), std::inserter(extra, extra.end()));
    std::set_difference(want.begin(), want.end(), pair->begin(), pair->end(), std::inserter(missing, missing.end()));
  }
  if (!extra.empty()) return bad_csr("the CSR names what the order does not: " + describe(extra, "extra"));
  if (!missing.empty()) return bad_csr("the CSR does not name every identifier of the order: " + describe(missing, "missing"));
  return std::nullopt;
}

}  // namespace keystep::acme
