#include "operator/kube/client.h"

#include <condition_variable>
#include <mutex>
#include <thread>

// cpprestsdk's U() macro breaks fmt (used by spdlog); we never need it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>

#include "issuer/common/file.h"
#include "issuer/common/log.h"
#include "operator/kube/api_errors.h"
#include "operator/kube/tls_credentials.h"
#include "operator/kube/watch_event.h"

namespace keystep::kube {
namespace {

namespace http = web::http;
using nlohmann::json;
using web::http::client::http_client;
using web::http::client::http_client_config;

// cpprestsdk's default pool is 40 threads; they only run asio handlers here
// (every call below blocks its caller), so a few suffice.
constexpr std::size_t kIoThreads = 4;
constexpr std::chrono::seconds kRequestTimeout{30};
// A watch's HTTP timeout outlives its timeoutSeconds so the server, not the
// client, ends an idle watch.
constexpr std::chrono::seconds kWatchTimeoutSlack{30};
constexpr std::chrono::milliseconds kStopPollInterval{100};
constexpr std::size_t kMaxTokenBytes = 64 * 1024;

void initialize_io_threads_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      crossplat::threadpool::initialize_with_threads(kIoThreads);
    } catch (const std::exception& e) {
      // Someone initialised it first (another library): use theirs.
      common::logger("kube")->debug("cpprestsdk thread pool already initialised reason={}", e.what());
    }
  });
}

std::string trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// describe names a request target for messages: "secrets keystep/foo",
// "secrets keystep", "stepclusterissuers root", "secrets all namespaces".
std::string describe(const ResourceType& type, const std::string& ns, const std::string& name = "") {
  std::string out = type.plural + " ";
  if (!type.namespaced || ns.empty()) {
    out += name.empty() ? (type.namespaced ? "all namespaces" : "") : name;
  } else {
    out += name.empty() ? ns : ns + "/" + name;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string metadata_string(const json& object, const char* field) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto it = metadata->find(field);
  return it != metadata->end() && it->is_string() ? it->get<std::string>() : "";
}

// CancelOnStop cancels a request when `stop` becomes true, polling it from
// a small thread for as long as the object lives.
class CancelOnStop {
 public:
  CancelOnStop(const std::atomic<bool>& stop, pplx::cancellation_token_source source)
      : source_(std::move(source)), thread_([this, &stop] { run(stop); }) {}
  ~CancelOnStop() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;

 private:
  void run(const std::atomic<bool>& stop) {
    std::unique_lock lock(mu_);
    while (!done_) {
      if (stop.load()) {
        source_.cancel();
        return;
      }
      cv_.wait_for(lock, kStopPollInterval);
    }
  }

  pplx::cancellation_token_source source_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

class RestClient final : public Client {
 public:
  RestClient(KubeConfig config, std::shared_ptr<const TlsCredentials> tls)
      : config_(std::move(config)), tls_(std::move(tls)), http_(web::uri(config_.server), http_config(kRequestTimeout)) {}

  Result<json> get(const ResourceType& type, const ObjectKey& key) override {
    return send(http::methods::GET, type.object_path(key.ns, key.name), nullptr, "",
                "get " + describe(type, key.ns, key.name));
  }

  Result<ObjectList> list(const ResourceType& type, const std::string& ns, const ListOptions& options) override {
    const std::string what = "list " + describe(type, ns);
    ObjectList out;
    std::string continue_token;
    do {
      web::uri_builder uri;
      uri.set_path(type.collection_path(ns));
      if (!options.label_selector.empty()) uri.append_query("labelSelector", options.label_selector);
      if (!options.field_selector.empty()) uri.append_query("fieldSelector", options.field_selector);
      if (options.limit > 0) uri.append_query("limit", options.limit);
      if (!continue_token.empty()) {
        uri.append_query("continue", continue_token);
      } else if (!options.resource_version.empty()) {
        uri.append_query("resourceVersion", options.resource_version);
      }
      auto page = send(http::methods::GET, uri.to_string(), nullptr, "", what);
      if (!page) return tl::unexpected(page.error());
      if (auto items = page->find("items"); items != page->end() && items->is_array()) {
        for (auto& item : *items) {
          // List items omit kind and apiVersion; handlers want whole objects.
          if (item.is_object()) {
            if (!item.contains("kind")) item["kind"] = type.kind;
            if (!item.contains("apiVersion")) item["apiVersion"] = type.api_version();
          }
          out.items.push_back(std::move(item));
        }
      }
      out.resource_version = metadata_string(*page, "resourceVersion");
      continue_token = metadata_string(*page, "continue");
    } while (!continue_token.empty());
    return out;
  }

  Result<json> create(const ResourceType& type, const std::string& ns, const json& object) override {
    std::string target_ns = type.namespaced ? (ns.empty() ? config_.namespace_ : ns) : "";
    return send(http::methods::POST, type.collection_path(target_ns), &object, "application/json",
                "create " + describe(type, target_ns));
  }

  Result<json> update(const ResourceType& type, const json& object, const std::string& subresource) override {
    ObjectKey key{type.namespaced ? metadata_string(object, "namespace") : "", metadata_string(object, "name")};
    if (key.name.empty()) return fail(Errc::invalid_argument, "update " + type.plural + ": metadata.name is required");
    if (type.namespaced && key.ns.empty()) key.ns = config_.namespace_;
    std::string what = "update " + describe(type, key.ns, key.name) + (subresource.empty() ? "" : "/" + subresource);
    return send(http::methods::PUT, type.object_path(key.ns, key.name, subresource), &object, "application/json",
                what);
  }

  Result<json> merge_patch(const ResourceType& type, const ObjectKey& key, const json& patch,
                           const std::string& subresource) override {
    std::string what = "patch " + describe(type, key.ns, key.name) + (subresource.empty() ? "" : "/" + subresource);
    return send(http::methods::PATCH, type.object_path(key.ns, key.name, subresource), &patch,
                "application/merge-patch+json", what);
  }

  Status remove(const ResourceType& type, const ObjectKey& key) override {
    auto r = send(http::methods::DEL, type.object_path(key.ns, key.name), nullptr, "",
                  "delete " + describe(type, key.ns, key.name));
    if (!r) return tl::unexpected(r.error());
    return ok();
  }

  Result<WatchEnd> watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         const std::atomic<bool>& stop) override;

  Result<json> raw(const std::string& method, const std::string& path, const std::optional<json>& body) override {
    // Non-resource paths answer other JSON types too (the JWKS is
    // application/jwk-set+json).
    return send(method, path, body ? &*body : nullptr, "application/json", method + " " + path,
                "application/json, application/jwk-set+json");
  }

  const std::string& default_namespace() const override { return config_.namespace_; }

 private:
  http_client_config http_config(std::chrono::seconds timeout) const {
    http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(tls_->verifies_peer());
    std::shared_ptr<const TlsCredentials> tls = tls_;
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { (void)tls->configure(ctx.native_handle()); });
    return cfg;
  }

  // authorize adds the credential and identity headers. The token never
  // leaves this function except in the Authorization header.
  Status authorize(http::http_request& request, const std::string& accept = "application/json") const {
    auto& headers = request.headers();
    headers.add("Accept", accept);
    headers.add("User-Agent", "keystep");
    if (!config_.token_file.empty()) {
      auto content = common::read_file(config_.token_file, kMaxTokenBytes);
      if (!content) return fail(Errc::unavailable, "reading token file: " + content.error().message);
      crypto::SecretBytes token(trim(*content));
      OPENSSL_cleanse(content->data(), content->size());
      if (!token.empty()) headers.add("Authorization", "Bearer " + std::string(token.view()));
    } else if (!config_.token.empty()) {
      headers.add("Authorization", "Bearer " + std::string(config_.token.view()));
    }
    if (!config_.impersonate_user.empty()) headers.add("Impersonate-User", config_.impersonate_user);
    return ok();
  }

  Result<json> send(const http::method& method, const std::string& path_and_query, const json* body,
                    const std::string& content_type, const std::string& what,
                    const std::string& accept = "application/json") {
    http::http_request request(method);
    if (auto auth = authorize(request, accept); !auth) return tl::unexpected(with_context(auth.error(), what));
    try {
      request.set_request_uri(web::uri(path_and_query));
      if (body != nullptr) request.set_body(body->dump(), content_type);
      http::http_response response = http_.request(request).get();
      std::string text = response.extract_utf8string(true).get();
      return decode_response(response.status_code(), text, what);
    } catch (const nlohmann::json::exception& e) {
      return fail(Errc::invalid_argument, what + ": cannot encode body: " + e.what());
    } catch (const web::uri_exception& e) {
      return fail(Errc::invalid_argument, what + ": bad path: " + e.what());
    } catch (const http::http_exception& e) {
      return fail(Errc::unavailable, what + ": " + e.what());
    } catch (const pplx::task_canceled&) {
      return fail(Errc::unavailable, what + ": cancelled");
    } catch (const std::exception& e) {
      return fail(Errc::unavailable, what + ": " + e.what());
    }
  }

  static Result<json> decode_response(int status, const std::string& text, const std::string& what) {
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (status >= 200 && status < 300) {
      if (text.empty()) return json::object();
      if (parsed.is_discarded()) return fail(Errc::internal, what + ": response is not JSON");
      return parsed;
    }
    return tl::unexpected(map_status(status, parsed.is_discarded() ? json() : parsed, what));
  }

  KubeConfig config_;
  std::shared_ptr<const TlsCredentials> tls_;
  http_client http_;
};

Result<WatchEnd> RestClient::watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
                                   const std::function<bool(const WatchEvent&)>& on_event,
                                   const std::atomic<bool>& stop) {
  const std::string what = "watch " + describe(type, ns);
  WatchEnd end{options.resource_version, false};
  if (stop.load()) {
    end.stopped = true;
    return end;
  }
  http::http_request request(http::methods::GET);
  if (auto auth = authorize(request); !auth) return tl::unexpected(with_context(auth.error(), what));

  pplx::cancellation_token_source cancel;
  try {
    web::uri_builder uri;
    uri.set_path(type.collection_path(ns));
    uri.append_query("watch", 1);
    if (!options.resource_version.empty()) uri.append_query("resourceVersion", options.resource_version);
    if (options.allow_bookmarks) uri.append_query("allowWatchBookmarks", "true");
    uri.append_query("timeoutSeconds", options.timeout.count());
    if (!options.label_selector.empty()) uri.append_query("labelSelector", options.label_selector);
    if (!options.field_selector.empty()) uri.append_query("fieldSelector", options.field_selector);
    request.set_request_uri(uri.to_uri());

    // A client of its own: its timeout outlives the watch's.
    http_client client(web::uri(config_.server), http_config(options.timeout + kWatchTimeoutSlack));
    CancelOnStop canceller(stop, cancel);
    http::http_response response = client.request(request, cancel.get_token()).get();
    if (response.status_code() != http::status_codes::OK) {
      return decode_response(response.status_code(), response.extract_utf8string(true).get(), what)
          .and_then([&](const json&) -> Result<WatchEnd> {
            return fail(Errc::internal, what + ": unexpected status " + std::to_string(response.status_code()));
          });
    }
    auto body = response.body();
    while (true) {
      concurrency::streams::container_buffer<std::string> line;
      std::size_t n = body.read_line(line).get();
      if (stop.load()) {
        end.stopped = true;
        return end;
      }
      if (n == 0) {
        if (body.is_eof()) return end;  // the server ended the watch
        continue;
      }
      auto event = decode_watch_event(line.collection(), what);
      if (!event) return tl::unexpected(event.error());
      if (std::string rv = resource_version_of(event->object); !rv.empty()) end.last_resource_version = rv;
      if (!on_event(*event)) {
        cancel.cancel();
        end.stopped = true;
        return end;
      }
    }
  } catch (const std::exception& e) {
    if (stop.load()) {
      end.stopped = true;
      return end;
    }
    return fail(Errc::unavailable, what + ": " + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<Client>> Client::create(KubeConfig config) {
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) return fail(Errc::invalid_argument, "kube client: server is required");
  auto tls = TlsCredentials::from_config(config);
  if (!tls) return tl::unexpected(with_context(tls.error(), "kube client"));
  initialize_io_threads_once();
  try {
    return std::unique_ptr<Client>(new RestClient(std::move(config), std::move(*tls)));
  } catch (const std::exception& e) {
    return fail(Errc::invalid_argument, std::string("kube client: server: ") + e.what());
  }
}

}  // namespace keystep::kube
