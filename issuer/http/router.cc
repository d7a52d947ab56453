#include "issuer/http/router.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace keystep::http {
namespace {

constexpr std::size_t kMaxSegments = 32;
using Segments = std::array<std::string_view, kMaxSegments>;

// split_path cuts "/a/b" into {"a","b"} and "/" into {""}; returns the
// count, or 0 when path is not absolute or has too many segments.
std::size_t split_path(std::string_view path, Segments& out) {
  if (path.empty() || path.front() != '/') return 0;
  std::size_t count = 0;
  std::size_t start = 1;
  while (true) {
    if (count == kMaxSegments) return 0;
    std::size_t slash = path.find('/', start);
    out[count++] = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) return count;
    start = slash + 1;
  }
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// is_rest_param is "{name...}": it matches the rest of the path, slashes too.
bool is_rest_param(std::string_view segment) {
  return is_param(segment) && segment.size() > 5 && segment.substr(segment.size() - 4) == "...}";
}

Response not_found() {
  Response r = Response::text(404, "404 page not found\n");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;
  std::unique_ptr<Node> rest;  // "{name...}": the remainder of the path
  // Filled where a pattern ends.
  std::vector<std::string> param_names;
  std::vector<std::pair<std::string, Handler>> methods;
  std::string allow;  // value of the Allow header of a 405
  std::string pattern;  // the route as registered, e.g. "/root/{sha}"

  const Handler* find(std::string_view method) const {
    for (const auto& [name, handler] : methods) {
      if (name == method) return &handler;
    }
    return nullptr;
  }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(std::string method, std::string pattern, Handler h) {
  Segments segments;
  std::size_t count = split_path(pattern, segments);
  if (count == 0 || method.empty() || !h) {
    throw std::invalid_argument("router: bad route " + method + " " + pattern);
  }
  Node* node = root_.get();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view segment = segments[i];
    if (is_rest_param(segment)) {
      if (i + 1 != count) throw std::invalid_argument("router: {name...} must end the pattern " + pattern);
      names.emplace_back(segment.substr(1, segment.size() - 5));
      if (!node->rest) node->rest = std::make_unique<Node>();
      node = node->rest.get();
      continue;
    }
    if (is_param(segment)) {
      names.emplace_back(segment.substr(1, segment.size() - 2));
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    if (segment.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("router: bad segment in " + pattern);
    }
    auto it = std::find_if(node->literals.begin(), node->literals.end(),
                           [&](const auto& child) { return child.first == segment; });
    if (it == node->literals.end()) {
      node->literals.emplace_back(std::string(segment), std::make_unique<Node>());
      it = std::prev(node->literals.end());
    }
    node = it->second.get();
  }
  if (node->methods.empty()) {
    node->param_names = std::move(names);
  } else if (node->param_names != names) {
    throw std::invalid_argument("router: parameter names differ for " + pattern);
  }
  if (node->find(method) != nullptr) {
    throw std::invalid_argument("router: duplicate route " + method + " " + pattern);
  }
  node->methods.emplace_back(std::move(method), std::move(h));
  node->pattern = pattern;

  std::vector<std::string> allowed;
  for (const auto& entry : node->methods) allowed.push_back(entry.first);
  if (node->find("GET") != nullptr && node->find("HEAD") == nullptr) allowed.emplace_back("HEAD");
  std::sort(allowed.begin(), allowed.end());
  node->allow.clear();
  for (const auto& name : allowed) {
    if (!node->allow.empty()) node->allow += ", ";
    node->allow += name;
  }
}

void Router::set_observer(Observer observer) { observer_ = std::move(observer); }

Response Router::dispatch(Request& req) const {
  Response r = route(req);
  if (observer_) observer_(req, r);
  return r;
}

Response Router::route(Request& req) const {
  req.route.clear();
  Segments segments;
  Segments values;  // parameter values met on the way down
  std::size_t count = split_path(req.path, segments);
  if (count == 0) return not_found();

  // Depth-first: literal child first, then the parameter child.
  auto walk = [&](auto& self, const Node* node, std::size_t i, std::size_t depth) -> const Node* {
    if (i == count) return node->methods.empty() ? nullptr : node;
    std::string_view segment = segments[i];
    for (const auto& [literal, child] : node->literals) {
      if (literal == segment) {
        if (const Node* found = self(self, child.get(), i + 1, depth)) return found;
        break;
      }
    }
    if (node->param && !segment.empty()) {
      values[depth] = segment;
      if (const Node* found = self(self, node->param.get(), i + 1, depth + 1)) return found;
    }
    if (node->rest && !node->rest->methods.empty() && !segment.empty()) {
      const char* end = req.path.data() + req.path.size();
      values[depth] = std::string_view(segment.data(), static_cast<std::size_t>(end - segment.data()));
      return node->rest.get();
    }
    return nullptr;
  };
  const Node* node = walk(walk, root_.get(), 0, 0);
  if (node == nullptr) {
    Response r = not_found();
    if (req.method == "HEAD") r.body.clear();
    return r;
  }

  req.route = node->pattern;
  req.params.clear();
  for (std::size_t i = 0; i < node->param_names.size(); ++i) {
    req.params.emplace(node->param_names[i], std::string(values[i]));
  }

  bool is_head = req.method == "HEAD";
  const Handler* handler = node->find(req.method);
  if (handler == nullptr && is_head) handler = node->find("GET");
  if (handler == nullptr) {
    Response r;
    r.status = 405;
    r.headers.emplace_back("Allow", node->allow);
    return r;
  }
  Response r = (*handler)(req);
  if (is_head) {
    r.set_header("Content-Length", std::to_string(r.body.size()));
    r.body.clear();
  }
  return r;
}

}  // namespace keystep::http
