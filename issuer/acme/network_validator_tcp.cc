// TCP connections for tls-alpn-01: getaddrinfo, then a non-blocking
// connect per address bounded by the attempt's deadline.

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "issuer/acme/challenge_checks.h"
#include "issuer/common/free_with.h"

namespace keystep::acme::detail {
namespace {

using AddrinfoPtr = std::unique_ptr<addrinfo, common::FreeWith<freeaddrinfo>>;

std::string errno_text(int error) { return sentence_case(std::strerror(error)); }

}  // namespace

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

bool wait_ready(int fd, short events, Deadline deadline) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let the next call report the error
  }
}

Result<Fd> tcp_connect(const std::string& host, unsigned short port, bool is_ip, Deadline deadline,
                       std::chrono::seconds timeout) {
  const std::string where = host_port(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (is_ip ? AI_NUMERICHOST : 0);
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  AddrinfoPtr owned(found);
  if (rc != 0) {
    const std::string reason =
        rc == EAI_SYSTEM ? errno_text(errno) : sentence_case(gai_strerror(rc));
    return fail(Errc::unavailable, "resolve " + where + ": " + reason);
  }

  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) {
      last_error = errno_text(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      last_error = errno_text(errno);
      continue;
    }
    if (!wait_ready(fd.get(), POLLOUT, deadline)) {
      return fail(Errc::unavailable,
                  "connect " + where + ": timed out after " + seconds_text(timeout));
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error == 0) return fd;
    last_error = errno_text(error);
  }
  return fail(Errc::unavailable, "connect " + where + ": " + last_error);
}

}  // namespace keystep::acme::detail
