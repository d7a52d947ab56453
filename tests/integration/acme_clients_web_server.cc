#include "tests/integration/acme_clients_web_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;

constexpr int kReadTimeoutMs = 5000;
constexpr std::size_t kMaxRequestBytes = 16 * 1024;

void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the client went away; nothing to tell it
    done += static_cast<std::size_t>(w);
  }
}

std::string response(int status, const std::string& reason, const std::string& body) {
  std::ostringstream s;
  s << "HTTP/1.1 " << status << " " << reason << "\r\nContent-Type: text/plain\r\nContent-Length: " << body.size()
    << "\r\nConnection: close\r\n\r\n"
    << body;
  return s.str();
}

}  // namespace

ChallengeWebServer::ChallengeWebServer(fs::path root, unsigned short port) : root_(std::move(root)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    const std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw HarnessError("challenge web server cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw HarnessError(std::string("challenge web server: pipe: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { serve(); });
}

ChallengeWebServer::~ChallengeWebServer() {
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::vector<std::string> ChallengeWebServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ChallengeWebServer::serve() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    if (p[0].revents == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    ::close(fd);
  }
}

void ChallengeWebServer::answer(int fd) {
  std::string request;
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, kReadTimeoutMs) <= 0 || p[1].revents != 0) return;
    char buf[4096];
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    request.append(buf, static_cast<std::size_t>(r));
  }
  std::istringstream line(request.substr(0, request.find("\r\n")));
  std::string method, target;
  line >> method >> target;
  int status = 404;
  std::string body = "not found\n";
  const fs::path relative = fs::path(target.substr(0, target.find('?'))).relative_path().lexically_normal();
  const bool inside = !target.empty() && target[0] == '/' && !relative.empty() && *relative.begin() != "..";
  if (method != "GET" && method != "HEAD") {
    status = 405;
    body = "method not allowed\n";
  } else if (inside && fs::is_regular_file(root_ / relative)) {
    std::ifstream in(root_ / relative, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    status = 200;
    body = content.str();
  }
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(method + " " + target + " -> " + std::to_string(status));
  }
  std::string out = response(status, status == 200 ? "OK" : (status == 404 ? "Not Found" : "Method Not Allowed"),
                             body);
  if (method == "HEAD") out.resize(out.find("\r\n\r\n") + 4);
  write_all(fd, out);
}

}  // namespace keystep::integration
