#include "issuer/policy/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace keystep::policy {
namespace {

constexpr std::size_t kMaxIpText = 64;  // longer than any valid address text
constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), b.begin());
}

void clear_host_bits(IpAddress& ip, int prefix_length) {
  const auto bits = static_cast<std::size_t>(prefix_length);
  for (std::size_t i = 0; i < ip.size(); ++i) {
    if (8 * i >= bits) {
      ip.bytes[i] = 0;
    } else if (8 * (i + 1) > bits) {
      ip.bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (bits - 8 * i)));
    }
  }
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  // inet_pton reads a C string: an embedded NUL would hide a suffix.
  if (text.empty() || text.size() > kMaxIpText || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string c_text(text);
  IpAddress ip;
  if (inet_pton(AF_INET, c_text.c_str(), ip.bytes.data()) == 1) {
    ip.is_v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, c_text.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  if (is_v4_mapped(ip.bytes)) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.begin());
    ip.bytes = v4;
    ip.is_v4 = true;
  } else {
    ip.is_v4 = false;
  }
  return ip;
}

std::string to_string(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(ip.is_v4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf) == nullptr) {
    return {};  // cannot happen: the buffer fits both families
  }
  return buf;
}

bool IpNetwork::contains(const IpAddress& ip) const {
  if (ip.is_v4 != address.is_v4) return false;
  IpAddress masked = ip;
  clear_host_bits(masked, prefix_length);
  return masked == address;
}

std::optional<IpNetwork> parse_ip_network(std::string_view text) {
  const auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const std::string_view address_text = text.substr(0, slash);
  const bool written_as_v6 = address_text.find(':') != std::string_view::npos;
  const int family_bits = written_as_v6 ? 128 : 32;
  int prefix = family_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits.front() == '0')) {
      return std::nullopt;
    }
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > family_bits) return std::nullopt;
  }
  if (written_as_v6 && ip->is_v4) {
    // ::ffff:a.b.c.d/len: an IPv4 network if it lies inside ::ffff:0:0/96.
    if (prefix < 96) {
      IpAddress v6;
      v6.is_v4 = false;
      std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), v6.bytes.begin());
      std::copy(ip->bytes.begin(), ip->bytes.begin() + 4, v6.bytes.begin() + 12);
      ip = v6;
    } else {
      prefix -= 96;
    }
  }
  clear_host_bits(*ip, prefix);
  return IpNetwork{*ip, prefix};
}

std::string to_string(const IpNetwork& network) {
  return to_string(network.address) + "/" + std::to_string(network.prefix_length);
}

}  // namespace keystep::policy
