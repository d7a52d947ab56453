#include "issuer/http/message.h"

#include <nlohmann/json.hpp>

#include "issuer/http/url.h"

namespace keystep::http {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// go_json_escape rewrites what nlohmann leaves literal but Go's json.Encoder
// escapes. These bytes only occur inside JSON strings, so a textual pass is
// safe.
std::string go_json_escape(std::string dumped) {
  std::size_t extra = 0;
  for (char c : dumped) {
    if (c == '<' || c == '>' || c == '&') extra += 5;
  }
  if (extra == 0 && dumped.find("\xE2\x80") == std::string::npos) return dumped;
  std::string out;
  out.reserve(dumped.size() + extra);
  for (std::size_t i = 0; i < dumped.size(); ++i) {
    char c = dumped[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < dumped.size() && dumped[i + 1] == '\x80' &&
               (dumped[i + 2] == '\xA8' || dumped[i + 2] == '\xA9')) {
      out += dumped[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

std::string Request::header(std::string_view name) const {
  const std::string* value = find_header(headers, name);
  return value != nullptr ? *value : std::string();
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  std::string key;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    key.clear();
    if (!percent_decode(pair.substr(0, eq), key, true) || key != name) continue;
    std::string value;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true)) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  // Go replaces invalid UTF-8 with U+FFFD instead of failing.
  r.body = go_json_escape(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.body.push_back('\n');
  return r;
}

Response Response::error(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = "{\"status\":" + std::to_string(status) + ",\"message\":" +
           go_json_escape(nlohmann::json(message).dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace)) +
           "}\n";
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

void Response::set_header(std::string_view name, std::string value) {
  auto it = headers.begin();
  bool replaced = false;
  while (it != headers.end()) {
    if (!iequals(it->first, name)) {
      ++it;
    } else if (!replaced) {
      it->second = std::move(value);
      replaced = true;
      ++it;
    } else {
      it = headers.erase(it);
    }
  }
  if (!replaced) headers.emplace_back(std::string(name), std::move(value));
}

std::string_view Response::header(std::string_view name) const {
  const std::string* value = find_header(headers, name);
  return value != nullptr ? std::string_view(*value) : std::string_view();
}

}  // namespace keystep::http
