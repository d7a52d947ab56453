// Tests RestClient over plain HTTP against a scripted server on 127.0.0.1:0:
// headers, paths, pagination, error mapping and streaming watches. TLS and
// a real kube-apiserver are covered in tests/integration/.
#include "operator/kube/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::kube;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Request {
  std::string method;
  std::string target;  // path?query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  [[nodiscard]] std::string path() const { return target.substr(0, target.find('?')); }
  [[nodiscard]] bool query_has(const std::string& s) const { return target.find(s) != std::string::npos; }
};

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void respond(int fd, int status, const json& body) {
  std::string text = body.dump();
  send_all(fd, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
}

void start_chunked(int fd) {
  send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
}
void chunk(int fd, const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  send_all(fd, size + data + "\r\n");
}
void end_chunked(int fd) { send_all(fd, "0\r\n\r\n"); }

// TestServer runs `handler` for each request on its own thread, one request
// per connection. hold() keeps a connection open until the client closes it
// or the server stops.
class TestServer {
 public:
  using Handler = std::function<void(const Request&, int fd)>;
  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~TestServer() {
    stopping_ = true;
    accept_thread_.join();
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // hold waits until the peer closes fd or the server stops.
  void hold(int fd) const {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char buf[256];
        if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
      }
    }
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      connections_.emplace_back([this, fd] {
        Request request;
        if (read_request(fd, request)) {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(request);
          }
          handler_(request, fd);
        }
        ::close(fd);
      });
    }
  }

  static bool read_request(int fd, Request& out) {
    std::string data;
    char buf[4096];
    std::size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<std::size_t>(n));
    }
    std::string head = data.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.rfind(' ');
    out.method = request_line.substr(0, sp1);
    out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        out.headers[name] = value;
      }
      pos = end + 2;
    }
    out.body = data.substr(header_end + 4);
    std::size_t length = out.headers.contains("content-length") ? std::stoul(out.headers["content-length"]) : 0;
    while (out.body.size() < length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      out.body.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::vector<std::thread> connections_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

json status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"code", code}, {"reason", reason}, {"message", message}};
}

std::unique_ptr<Client> client_for(const TestServer& server, KubeConfig config = {}) {
  config.server = server.url();
  if (config.namespace_.empty()) config.namespace_ = "keystep";
  auto client = Client::create(std::move(config));
  REQUIRE(client);
  return std::move(*client);
}

std::filesystem::path temp_file(const std::string& content) {
  std::random_device rd;
  auto path = std::filesystem::temp_directory_path() / ("keystep-token-" + std::to_string(rd()));
  std::ofstream(path) << content;
  return path;
}

}  // namespace

TEST_CASE("Client maps a 404 with the server's message and re-reads the token file", "[kube]") {
  TestServer server([](const Request&, int fd) {
    respond(fd, 404, status(404, "NotFound", "secrets \"foo\" not found"));
  });
  auto token_file = temp_file("first-token\n");
  KubeConfig config;
  config.token_file = token_file;
  config.impersonate_user = "alice";
  auto client = client_for(server, std::move(config));

  auto got = client->get(resources::kSecrets, ObjectKey{"keystep", "foo"});
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Errc::not_found);
  CHECK(got.error().message == "get secrets keystep/foo: 404 secrets \"foo\" not found");
  CHECK_THAT(got.error().message, !Catch::Contains("first-token"));

  std::ofstream(token_file) << "second-token";
  (void)client->get(resources::kSecrets, ObjectKey{"keystep", "foo"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path() == "/api/v1/namespaces/keystep/secrets/foo");
  CHECK(requests[0].headers["authorization"] == "Bearer first-token");
  CHECK(requests[0].headers["impersonate-user"] == "alice");
  CHECK(requests[1].headers["authorization"] == "Bearer second-token");
  std::filesystem::remove(token_file);
}

TEST_CASE("Client lists page by page until the continue token runs out", "[kube]") {
  TestServer server([](const Request& r, int fd) {
    if (!r.query_has("continue=")) {
      respond(fd, 200, json{{"metadata", {{"resourceVersion", "5"}, {"continue", "page2"}}},
                            {"items", {{{"metadata", {{"name", "a"}}}}}}});
    } else {
      respond(fd, 200, json{{"metadata", {{"resourceVersion", "6"}}}, {"items", {{{"metadata", {{"name", "b"}}}}}}});
    }
  });
  KubeConfig config;
  config.token = crypto::SecretBytes("static-token");
  auto client = client_for(server, std::move(config));
  auto list = client->list(resources::kSecrets, "keystep", ListOptions{"app=web", "", "", 1});
  REQUIRE(list);
  REQUIRE(list->items.size() == 2);
  CHECK(list->items[1]["metadata"]["name"] == "b");
  CHECK(list->items[0]["kind"] == "Secret");
  CHECK(list->items[0]["apiVersion"] == "v1");
  CHECK(list->resource_version == "6");
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].path() == "/api/v1/namespaces/keystep/secrets");
  CHECK(requests[0].query_has("limit=1"));
  CHECK(requests[0].query_has("labelSelector=app"));
  CHECK(requests[1].query_has("continue=page2"));
  CHECK(requests[0].headers["authorization"] == "Bearer static-token");
}

TEST_CASE("Client sends JSON and merge patches and maps conflicts", "[kube]") {
  TestServer server([](const Request& r, int fd) {
    if (r.method == "POST") {
      respond(fd, 409, status(409, "AlreadyExists", "secrets \"foo\" already exists"));
    } else if (r.method == "PUT") {
      respond(fd, 409, status(409, "Conflict", "the object has been modified"));
    } else if (r.method == "PATCH") {
      respond(fd, 200, json::parse(r.body));
    } else {
      respond(fd, 200, status(200, "", "deleted"));
    }
  });
  auto client = client_for(server);
  json secret{{"metadata", {{"name", "foo"}, {"namespace", "keystep"}}}};
  auto created = client->create(resources::kSecrets, "", secret);
  REQUIRE_FALSE(created);
  CHECK(created.error().code == Errc::already_exists);

  auto updated = client->update(resources::kCertificateRequests, secret, "status");
  REQUIRE_FALSE(updated);
  CHECK(is_conflict(updated.error()));
  CHECK(updated.error().message ==
        "conflict: update certificaterequests keystep/foo/status: 409 the object has been modified");

  auto patched = client->merge_patch(resources::kSecrets, ObjectKey{"keystep", "foo"}, json{{"data", {{"k", "v"}}}});
  REQUIRE(patched);
  CHECK((*patched)["data"]["k"] == "v");
  CHECK(client->remove(resources::kSecrets, ObjectKey{"keystep", "foo"}));

  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].path() == "/api/v1/namespaces/keystep/secrets");  // default namespace
  CHECK(requests[0].headers["content-type"] == "application/json");
  CHECK(requests[1].path() == "/apis/cert-manager.io/v1/namespaces/keystep/certificaterequests/foo/status");
  CHECK(requests[2].method == "PATCH");
  CHECK(requests[2].headers["content-type"] == "application/merge-patch+json");
  CHECK(requests[3].method == "DELETE");
}

TEST_CASE("Client streams watch events as they arrive and stops promptly", "[kube]") {
  TestServer server([&](const Request&, int fd) {
    start_chunked(fd);
    chunk(fd, R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})" "\n");
    chunk(fd, R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})" "\n");
    std::this_thread::sleep_for(50ms);
    chunk(fd, R"({"type":"MODIFIED","object":{"metadata":)");  // a line split across chunks
    chunk(fd, R"({"name":"a","resourceVersion":"13"}}})" "\n");
    server.hold(fd);
  });
  auto client = client_for(server);
  std::atomic<bool> stop{false};
  std::vector<WatchEvent::Type> types;
  auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point stop_at;
  auto end = client->watch(resources::kSecrets, "keystep", WatchOptions{"10"},
                           [&](const WatchEvent& e) {
                             types.push_back(e.type);
                             if (types.size() == 3) {
                               // Stop from elsewhere while the stream idles.
                               std::thread([&] {
                                 std::this_thread::sleep_for(100ms);
                                 stop_at = std::chrono::steady_clock::now();
                                 stop = true;
                               }).detach();
                             }
                             return true;
                           },
                           stop);
  auto returned = std::chrono::steady_clock::now();
  REQUIRE(end);
  CHECK(end->stopped);
  CHECK(end->last_resource_version == "13");
  REQUIRE(types.size() == 3);
  CHECK(types[0] == WatchEvent::Type::added);
  CHECK(types[1] == WatchEvent::Type::bookmark);
  CHECK(types[2] == WatchEvent::Type::modified);
  CHECK(returned - stop_at < 1s);
  CHECK(returned - started < 5s);
  auto r = server.requests().at(0);
  CHECK(r.path() == "/api/v1/namespaces/keystep/secrets");
  CHECK(r.query_has("watch=1"));
  CHECK(r.query_has("resourceVersion=10"));
  CHECK(r.query_has("allowWatchBookmarks=true"));
  CHECK(r.query_has("timeoutSeconds=300"));
}

TEST_CASE("Client watch ends when the server ends it, or on_event declines", "[kube]") {
  TestServer server([&](const Request&, int fd) {
    start_chunked(fd);
    chunk(fd, R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"21"}}})" "\n"
              R"({"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"22"}}})" "\n");
    end_chunked(fd);
  });
  auto client = client_for(server);
  std::atomic<bool> stop{false};
  int seen = 0;
  auto ended = client->watch(resources::kSecrets, "", WatchOptions{"20"}, [&](const WatchEvent&) { return ++seen > 0; },
                             stop);
  REQUIRE(ended);
  CHECK_FALSE(ended->stopped);
  CHECK(ended->last_resource_version == "22");
  CHECK(seen == 2);
  CHECK(server.requests().at(0).path() == "/api/v1/secrets");

  auto declined = client->watch(resources::kSecrets, "", WatchOptions{"20"}, [](const WatchEvent&) { return false; },
                                stop);
  REQUIRE(declined);
  CHECK(declined->stopped);
  CHECK(declined->last_resource_version == "21");
}

TEST_CASE("Client watch returns an ERROR event's 410 as gone", "[kube]") {
  TestServer server([&](const Request&, int fd) {
    start_chunked(fd);
    chunk(fd, json{{"type", "ERROR"}, {"object", status(410, "Expired", "too old resource version: 1 (50)")}}.dump() +
                  "\n");
    server.hold(fd);
  });
  auto client = client_for(server);
  std::atomic<bool> stop{false};
  auto gone = client->watch(resources::kSecrets, "keystep", WatchOptions{"1"}, [](const WatchEvent&) { return true; },
                            stop);
  REQUIRE_FALSE(gone);
  CHECK(is_gone(gone.error()));
  CHECK(gone.error().message == "gone: watch secrets keystep: 410 too old resource version: 1 (50)");
}

TEST_CASE("Client turns a refused connection into unavailable", "[kube]") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nothing listens there now
  KubeConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  config.token = crypto::SecretBytes("never-shown");
  auto client = Client::create(std::move(config));
  REQUIRE(client);
  auto got = (*client)->get(resources::kSecrets, ObjectKey{"keystep", "foo"});
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Errc::unavailable);
  CHECK_THAT(got.error().message, Catch::StartsWith("get secrets keystep/foo: "));
  CHECK_THAT(got.error().message, !Catch::Contains("never-shown"));
  std::atomic<bool> stop{false};
  auto watched = (*client)->watch(resources::kSecrets, "keystep", {}, [](const WatchEvent&) { return true; }, stop);
  REQUIRE_FALSE(watched);
  CHECK(watched.error().code == Errc::unavailable);
}

TEST_CASE("Client::create rejects a config without a server or with a bad PEM", "[kube]") {
  CHECK(Client::create(KubeConfig{}).error().code == Errc::invalid_argument);
  KubeConfig bad;
  bad.server = "https://k:6443";
  bad.ca_pem = "not a pem";
  auto created = Client::create(std::move(bad));
  REQUIRE_FALSE(created);
  CHECK(created.error().code == Errc::invalid_argument);
  CHECK_THAT(created.error().message, Catch::Contains("certificate-authority"));
}
