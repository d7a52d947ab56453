#pragma once
// Test-only (header-only): DnsServer is a tiny authoritative DNS responder
// for tests of dns-01: UDP and TCP on one loopback port (127.0.0.1 unless
// told otherwise, port 0 = ephemeral), served by its own thread until the
// destructor. It answers TXT, A and AAAA questions (ANY gives all three)
// from an in-memory map a test may change while it runs, and TXT records
// from files in options.dir, re-read on every query so another process
// (lego's `exec` DNS provider script) can publish records: a file's name is
// the record name (trailing dot optional), each non-empty line one value.
//
// Answers are authoritative (AA), TTL 0, names compared ASCII
// case-insensitively and echoed as asked. A name without records is
// NXDOMAIN, unless it is an ancestor of one (RFC 8020: NOERROR, no data);
// other types at a known name are NOERROR with no data; an opcode other
// than QUERY is NOTIMP, a class other than IN or ANY REFUSED, an
// unparsable question FORMERR. An EDNS0 OPT in the query's additional
// section is answered with an OPT (payload 1232); UDP answers larger than
// the client's payload (512 without EDNS0) are truncated with TC so the
// client retries over TCP (dns_server_message.h holds this wire format).
// There is no SOA or NS, so lego's full propagation check (which asks the
// zone's NS on port 53) cannot pass: give lego --dns.resolvers <address()>
// and --dns.disable-cp.
//
// The constructor throws std::runtime_error when it cannot bind, so a test
// fails loudly. The setters are thread-safe; query_count() counts answered
// queries.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/dns_server_message.h"

namespace keystep::testing {

struct DnsServerOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal to listen on
  unsigned short port = 0;         // 0 = ephemeral; UDP and TCP share it
  std::filesystem::path dir;       // TXT record files; "" for none
};

class DnsServer {
 public:
  using TxtRecord = dns::TxtRecord;  // one TXT record's character-strings

  explicit DnsServer(DnsServerOptions options = {}) : options_(std::move(options)) {
    open_sockets();
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      close_sockets();
      throw std::runtime_error("dns server: pipe: " + std::string(std::strerror(errno)));
    }
    thread_ = std::thread([this] { run(); });
  }

  ~DnsServer() {
    (void)!::write(wake_[1], "x", 1);  // never drained: wakes every poller for good
    thread_.join();
    std::vector<std::thread> connections;
    {
      std::lock_guard lock(mutex_);
      connections.swap(connections_);
    }
    for (auto& t : connections) t.join();
    close_sockets();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  [[nodiscard]] unsigned short port() const { return port_; }
  // address is "127.0.0.1:PORT" ("[::1]:PORT"), the form of
  // ValidationOptions::dns_resolver and of lego's --dns.resolvers.
  [[nodiscard]] std::string address() const {
    const bool is_v6 = options_.host.find(':') != std::string::npos;
    return (is_v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_);
  }
  [[nodiscard]] std::size_t query_count() const { return query_count_.load(); }

  // set_txt replaces the TXT records at name: one record per value, a value
  // over 255 bytes split into several character-strings.
  void set_txt(const std::string& name, const std::vector<std::string>& values) {
    std::vector<TxtRecord> records;
    for (const auto& v : values) records.push_back(dns::split_txt(v));
    set_txt_records(name, std::move(records));
  }
  // set_txt_records replaces the TXT records at name, each given as its
  // character-strings (each at most 255 bytes).
  void set_txt_records(const std::string& name, std::vector<TxtRecord> records) {
    for (const auto& r : records) {
      for (const auto& s : r) {
        if (s.size() > 255)
          throw std::invalid_argument("dns server: character-string over 255 bytes");
      }
    }
    std::lock_guard lock(mutex_);
    names_[dns::normalize(name)].txt = std::move(records);
  }
  void clear_txt(const std::string& name) {
    std::lock_guard lock(mutex_);
    names_[dns::normalize(name)].txt.clear();
  }
  // set_a adds an address at name: A for IPv4, AAAA for IPv6.
  void set_a(const std::string& name, const std::string& ip) {
    std::array<unsigned char, 16> bytes{};
    std::lock_guard lock(mutex_);
    dns::Records& r = names_[dns::normalize(name)];
    if (::inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) {
      r.a.push_back({bytes[0], bytes[1], bytes[2], bytes[3]});
    } else if (::inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) {
      r.aaaa.push_back(bytes);
    } else {
      throw std::invalid_argument("dns server: not an IP address: " + ip);
    }
  }
  void clear_a(const std::string& name) {
    std::lock_guard lock(mutex_);
    dns::Records& r = names_[dns::normalize(name)];
    r.a.clear();
    r.aaaa.clear();
  }

 private:
  static constexpr int kTcpIdleMs = 5000;

  void open_sockets() {
    sockaddr_storage addr{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET, options_.host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, options_.host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      len = sizeof *v6;
    } else {
      throw std::runtime_error("dns server: host must be an IP literal: " + options_.host);
    }
    std::string last_error;
    for (int attempt = 0; attempt < 20; ++attempt) {
      close_sockets();
      if (addr.ss_family == AF_INET)
        v4->sin_port = htons(options_.port);
      else
        v6->sin6_port = htons(options_.port);
      udp_ = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (udp_ < 0 || ::bind(udp_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        last_error = "udp " + address_of(addr) + ": " + std::strerror(errno);
        if (options_.port != 0) break;
        continue;
      }
      socklen_t bound_len = len;
      ::getsockname(udp_, reinterpret_cast<sockaddr*>(&addr), &bound_len);
      port_ = ntohs(addr.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
      tcp_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      const int one = 1;
      if (tcp_ >= 0) ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (tcp_ >= 0 && ::bind(tcp_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
          ::listen(tcp_, 16) == 0) {
        return;
      }
      last_error = "tcp " + address_of(addr) + ": " + std::strerror(errno);
      if (options_.port != 0) break;
    }
    close_sockets();
    throw std::runtime_error("dns server: cannot bind " + last_error);
  }

  std::string address_of(const sockaddr_storage& addr) const {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    const unsigned short p = ntohs(addr.ss_family == AF_INET ? v4.sin_port : v6.sin6_port);
    return options_.host + " port " + std::to_string(p);
  }

  void close_sockets() {
    if (udp_ >= 0) ::close(udp_);
    if (tcp_ >= 0) ::close(tcp_);
    udp_ = tcp_ = -1;
  }

  void run() {
    std::string buffer(65535, '\0');
    for (;;) {
      pollfd fds[3] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[2].revents != 0) return;
      if ((fds[0].revents & POLLIN) != 0) {
        sockaddr_storage peer{};
        socklen_t peer_len = sizeof peer;
        const ssize_t n = ::recvfrom(udp_, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&peer), &peer_len);
        if (n > 0) {
          if (auto reply =
                  respond(std::string_view(buffer.data(), static_cast<std::size_t>(n)), false)) {
            ::sendto(udp_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&peer),
                     peer_len);
          }
        }
      }
      if ((fds[1].revents & POLLIN) != 0) {
        const int conn = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn >= 0) {
          std::lock_guard lock(mutex_);
          connections_.emplace_back([this, conn] { serve_tcp(conn); });
        }
      }
    }
  }

  // read_exact reads n bytes unless the peer closes, idles or we stop.
  bool read_exact(int fd, char* out, std::size_t n) {
    while (n > 0) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, kTcpIdleMs) <= 0 || fds[1].revents != 0) return false;
      const ssize_t got = ::recv(fd, out, n, 0);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }

  // serve_tcp answers length-prefixed queries (RFC 1035 §4.2.2) until the
  // client closes the connection.
  void serve_tcp(int fd) {
    char length[2];
    std::string query;
    while (read_exact(fd, length, 2)) {
      query.assign(dns::get16(std::string_view(length, 2), 0), '\0');
      if (!read_exact(fd, query.data(), query.size())) break;
      auto reply = respond(query, true);
      if (!reply) break;
      std::string framed;
      dns::put16(framed, static_cast<std::uint16_t>(reply->size()));
      framed += *reply;
      if (::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(framed.size()))
        break;
    }
    ::close(fd);
  }

  // snapshot is the in-memory records plus those of the files in dir.
  dns::Zone snapshot() const {
    dns::Zone out;
    {
      std::lock_guard lock(mutex_);
      out = names_;
    }
    if (options_.dir.empty()) return out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
      if (!entry.is_regular_file(ec)) continue;
      std::ifstream in(entry.path());
      std::string line;
      dns::Records& r = out[dns::normalize(entry.path().filename().string())];
      while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) continue;
        const auto last = line.find_last_not_of(" \t\r");
        r.txt.push_back(dns::split_txt(line.substr(first, last - first + 1)));
      }
    }
    return out;
  }

  std::optional<std::string> respond(std::string_view query, bool is_tcp) {
    auto reply = dns::answer(query, is_tcp, [this] { return snapshot(); });
    if (reply) ++query_count_;
    return reply;
  }

  DnsServerOptions options_;
  int udp_ = -1;
  int tcp_ = -1;
  int wake_[2] = {-1, -1};
  unsigned short port_ = 0;
  std::atomic<std::size_t> query_count_{0};
  mutable std::mutex mutex_;  // guards names_ and connections_
  dns::Zone names_;
  std::vector<std::thread> connections_;
  std::thread thread_;
};

}  // namespace keystep::testing
