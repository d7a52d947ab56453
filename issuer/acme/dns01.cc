// dns-01 (RFC 8555 §8.4): TXT records of _acme-challenge.<name> through
// glibc's libresolv, on a res_state of our own (so concurrent checks share
// nothing), optionally pointed at ValidationOptions::dns_resolver.

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "issuer/acme/challenge_checks.h"
#include "issuer/acme/key_authorization.h"
#include "issuer/common/free_with.h"

namespace keystep::acme::detail {
namespace {

// Large enough for any answer over TCP; glibc falls back to TCP on a
// truncated UDP answer.
constexpr std::size_t kMaxAnswerBytes = 65535;
constexpr std::size_t kMaxListedRecords = 5;

using AddrinfoPtr = std::unique_ptr<addrinfo, common::FreeWith<freeaddrinfo>>;

// split_resolver splits a dns_resolver setting into host and port ("" for
// the default); false when it is neither host[:port] nor [IPv6][:port].
bool split_resolver(std::string_view text, std::string& host, std::string_view& port) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    port = rest.substr(1);
    return rest.front() == ':' && !port.empty();
  }
  if (std::count(text.begin(), text.end(), ':') > 1) {
    host = std::string(text);  // a bare IPv6 address
    return true;
  }
  const auto colon = text.find(':');
  host = std::string(text.substr(0, colon));
  if (colon == std::string_view::npos) return true;
  port = text.substr(colon + 1);
  return !port.empty();
}

std::optional<unsigned short> parse_port(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<unsigned short>(value);
}

// ResolverState owns one initialised res_state; res_nclose frees the name
// server addresses glibc (or set_server) allocated and closes its sockets.
class ResolverState {
 public:
  ResolverState() = default;
  ~ResolverState() {
    if (is_initialized_) res_nclose(&state_);
  }
  ResolverState(const ResolverState&) = delete;
  ResolverState& operator=(const ResolverState&) = delete;

  [[nodiscard]] bool init() {
    is_initialized_ = res_ninit(&state_) == 0;
    return is_initialized_;
  }
  res_state get() { return &state_; }

  // set_server replaces every name server from /etc/resolv.conf by one.
  // IPv4 goes into nsaddr_list; IPv6 into _u._ext.nsaddrs (malloc'd: glibc
  // frees it in res_nclose) with nsaddr_list's family 0, as res_ninit
  // itself stores an IPv6 server.
  [[nodiscard]] bool set_server(const DnsResolverAddress& server) {
    for (auto& ext : state_._u._ext.nsaddrs) {
      std::free(ext);
      ext = nullptr;
    }
    std::memset(&state_.nsaddr_list[0], 0, sizeof state_.nsaddr_list[0]);
    if (server.family == AF_INET) {
      state_.nsaddr_list[0].sin_family = AF_INET;
      state_.nsaddr_list[0].sin_port = htons(server.port);
      std::memcpy(&state_.nsaddr_list[0].sin_addr, server.address, 4);
    } else {
      auto* v6 = static_cast<sockaddr_in6*>(std::calloc(1, sizeof(sockaddr_in6)));
      if (v6 == nullptr) return false;
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(server.port);
      std::memcpy(&v6->sin6_addr, server.address, 16);
      state_._u._ext.nsaddrs[0] = v6;
    }
    state_.nscount = 1;
    return true;
  }

 private:
  struct __res_state state_ {};  // "struct": glibc also has a function __res_state()
  bool is_initialized_ = false;
};

std::string rcode_text(int rcode) {
  switch (rcode) {
    case ns_r_formerr:
      return "FORMERR";
    case ns_r_servfail:
      return "SERVFAIL";
    case ns_r_nxdomain:
      return "NXDOMAIN";
    case ns_r_notimpl:
      return "NOTIMP";
    case ns_r_refused:
      return "REFUSED";
    default:
      return "rcode " + std::to_string(rcode);
  }
}

// txt_values returns each TXT record of the answer section as the
// concatenation of its character-strings (RFC 8555 §8.4 allows splitting).
Result<std::vector<std::string>> txt_values(const unsigned char* answer, int length) {
  ns_msg msg;
  if (ns_initparse(answer, length, &msg) != 0) return fail(Errc::unavailable, "malformed answer");
  std::vector<std::string> values;
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return fail(Errc::unavailable, "malformed answer");
    if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in) continue;  // CNAMEs on the way
    const unsigned char* rdata = ns_rr_rdata(rr);
    const std::size_t rdlen = ns_rr_rdlen(rr);
    std::string value;
    for (std::size_t at = 0; at < rdlen;) {
      const std::size_t n = rdata[at++];
      if (n > rdlen - at) return fail(Errc::unavailable, "malformed TXT record");
      value.append(reinterpret_cast<const char*>(rdata + at), n);
      at += n;
    }
    values.push_back(std::move(value));
  }
  return values;
}

std::string list_values(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size() && i < kMaxListedRecords; ++i) {
    out += (i == 0 ? "" : ", ") + quote(values[i]);
  }
  if (values.size() > kMaxListedRecords) {
    out += " and " + std::to_string(values.size() - kMaxListedRecords) + " more";
  }
  return out;
}

}  // namespace

Result<DnsResolverAddress> parse_dns_resolver(std::string_view text) {
  auto bad = [text](std::string_view why) {
    return fail(Errc::invalid_argument, "dns_resolver " + quote(text) + ": " + std::string(why));
  };
  std::string host;
  std::string_view port_text;
  if (!split_resolver(text, host, port_text) || host.empty()) {
    return bad("want host, host:port or [IPv6]:port");
  }
  DnsResolverAddress out;
  out.text = std::string(text);
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port) return bad("bad port");
    out.port = *port;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  AddrinfoPtr owned(found);
  if (rc != 0 || found == nullptr) {
    return fail(Errc::unavailable,
                "dns_resolver " + quote(text) + ": " + sentence_case(gai_strerror(rc)));
  }
  out.family = found->ai_family;
  if (found->ai_family == AF_INET) {
    std::memcpy(out.address, &reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr, 4);
  } else if (found->ai_family == AF_INET6) {
    std::memcpy(out.address, &reinterpret_cast<const sockaddr_in6*>(found->ai_addr)->sin6_addr, 16);
  } else {
    return bad("not an IP address");
  }
  return out;
}

std::optional<Problem> check_dns01(const ValidationOptions& options,
                                   const ChallengeTarget& target) {
  if (target.identifier_type != "dns") return malformed("dns-01 is only for dns identifiers");
  const std::string name = "_acme-challenge." + target.identifier;
  const std::string from =
      options.dns_resolver.empty() ? "the system resolver" : options.dns_resolver;

  ResolverState state;
  if (!state.init()) return server_internal("initialising the DNS resolver failed");
  if (!options.dns_resolver.empty()) {
    auto server = parse_dns_resolver(options.dns_resolver);
    if (!server) {
      return server.error().code == Errc::invalid_argument ? server_internal(server.error().message)
                                                           : dns(server.error().message);
    }
    if (!state.set_server(*server)) return server_internal("out of memory");
  }
  // One attempt of options.timeout: two tries when there is time for both.
  const auto timeout = std::max<long long>(1, options.timeout.count());
  state.get()->retry = timeout >= 2 ? 2 : 1;
  state.get()->retrans = static_cast<int>(timeout / state.get()->retry);
  state.get()->options |= RES_USE_EDNS0;

  std::vector<unsigned char> answer(kMaxAnswerBytes);
  errno = 0;
  const int length = res_nquery(state.get(), name.c_str(), ns_c_in, ns_t_txt, answer.data(),
                                static_cast<int>(answer.size()));
  if (length < 0) {
    const int saved_errno = errno;
    const bool got_answer = (answer[2] & 0x80) != 0;  // QR: a response reached the buffer
    const int rcode = answer[3] & 0x0f;
    if (state.get()->res_h_errno == HOST_NOT_FOUND) {
      return dns("no TXT record at " + name + " (NXDOMAIN from " + from + ")");
    }
    if (state.get()->res_h_errno == NO_DATA) return dns("no TXT record at " + name);
    if (got_answer) return dns("querying TXT " + name + " at " + from + ": " + rcode_text(rcode));
    const std::string reason = saved_errno == ETIMEDOUT || saved_errno == 0
                                   ? "timed out after " + seconds_text(options.timeout)
                                   : sentence_case(std::strerror(saved_errno));
    return dns("querying TXT " + name + " at " + from + ": " + reason);
  }
  auto values = txt_values(answer.data(), length);
  if (!values) return dns("querying TXT " + name + " at " + from + ": " + values.error().message);
  if (values->empty()) return dns("no TXT record at " + name);

  const std::string expected = dns01_txt_value(target.key_authorization);
  for (const auto& value : *values) {
    if (value.size() == expected.size() &&
        CRYPTO_memcmp(value.data(), expected.data(), expected.size()) == 0) {
      return std::nullopt;
    }
  }
  return incorrect_response("TXT records at " + name + " are " + list_values(*values) +
                            ", none is the key authorization's digest");
}

}  // namespace keystep::acme::detail
