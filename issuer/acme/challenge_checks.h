#pragma once
// Internal to NetworkValidator (validator.h): one check per challenge type,
// each a single attempt bounded by ValidationOptions::timeout, and the
// helpers they share. The caller has checked that the identifier type is
// "dns" or "ip" and that an ip identifier is an IP literal. Stateless and
// thread-safe; nothing here logs.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "issuer/acme/acme_config.h"
#include "issuer/acme/problem.h"
#include "issuer/acme/validator.h"
#include "issuer/common/error.h"

namespace keystep::acme::detail {

using Deadline = std::chrono::steady_clock::time_point;

// kDetailExcerptChars bounds how much of what a target sent goes into a
// Problem detail.
inline constexpr std::size_t kDetailExcerptChars = 64;

[[nodiscard]] std::optional<Problem> check_http01(const ValidationOptions& options,
                                                  const ChallengeTarget& target);
[[nodiscard]] std::optional<Problem> check_dns01(const ValidationOptions& options,
                                                 const ChallengeTarget& target);
[[nodiscard]] std::optional<Problem> check_tls_alpn01(const ValidationOptions& options,
                                                      const ChallengeTarget& target);

// host_port is "host:port", an IPv6 host in brackets: "[::1]:443".
[[nodiscard]] std::string host_port(std::string_view host, unsigned short port);

// quote puts at most max_chars bytes of untrusted text between double
// quotes, escaping quotes, backslashes, control and non-ASCII bytes, with
// "…" before the closing quote when it cut the text.
[[nodiscard]] std::string quote(std::string_view text, std::size_t max_chars = kDetailExcerptChars);

// sentence_case lowercases the first letter of a library's message
// ("Connection refused" -> "connection refused"), to follow a colon.
[[nodiscard]] std::string sentence_case(std::string text);

// seconds_text is "10s", for "timed out after 10s".
[[nodiscard]] std::string seconds_text(std::chrono::seconds s);

// Fd owns a socket descriptor and closes it.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// tcp_connect resolves host (an IP literal when is_ip) through getaddrinfo
// and connects to the first address that answers before deadline. The
// socket is non-blocking. Failures are unavailable and name host:port:
// "connect 127.0.0.1:443: connection refused", "... timed out after 10s"
// (timeout is only for that text; getaddrinfo itself is not bounded).
[[nodiscard]] Result<Fd> tcp_connect(const std::string& host, unsigned short port, bool is_ip,
                                     Deadline deadline, std::chrono::seconds timeout);

// wait_ready polls fd for events (POLLIN, POLLOUT) until deadline; false
// on timeout.
[[nodiscard]] bool wait_ready(int fd, short events, Deadline deadline);

// DnsResolverAddress is ValidationOptions::dns_resolver resolved to a socket
// address.
struct DnsResolverAddress {
  std::string text;  // as configured, for details
  int family = 0;    // AF_INET or AF_INET6
  unsigned short port = 53;
  unsigned char address[16] = {};  // network order: 4 bytes for IPv4, 16 for IPv6
};

// parse_dns_resolver accepts "host", "host:port", "IPv4[:port]",
// "[IPv6][:port]" and a bare IPv6 address (port 53 unless given). A name
// resolves through getaddrinfo, its first address winning. Bad syntax is
// invalid_argument; a name that does not resolve is unavailable.
[[nodiscard]] Result<DnsResolverAddress> parse_dns_resolver(std::string_view text);

}  // namespace keystep::acme::detail
