#pragma once
// Test-only helpers shared by the harnesses that start real servers
// (kube_apiserver.h, postgres.h): a free loopback port and random hex.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <string>

namespace keystep::testing {

// free_loopback_port binds port 0 on 127.0.0.1 and returns what the kernel
// chose (free now; another process may still take it before it is used).
inline int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// random_hex returns 2*bytes lowercase hex digits from std::random_device.
inline std::string random_hex(int bytes) {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < bytes * 2; ++i) out += hex[rd() % 16];
  return out;
}

}  // namespace keystep::testing
