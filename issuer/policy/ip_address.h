#pragma once
// IpAddress and IpNetwork: the textual IP forms a certificate request or a
// name policy may carry, parsed with inet_pton so that what we accept is
// exactly what the C library accepts (dotted quads without leading zeros,
// RFC 4291 IPv6 text; no zones, brackets or hostnames).
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as the IPv4 address,
// as Go's net.IP.To4 does when step-ca encodes a SAN: one address has one
// form, so a deny rule on 10.0.0.0/8 cannot be bypassed with ::ffff:10.0.0.1.
// Encode IP SANs from parse_ip(): 4 bytes if is_v4, else 16.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keystep::policy {

struct IpAddress {
  bool is_v4 = true;
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  [[nodiscard]] std::size_t size() const { return is_v4 ? 4 : 16; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// parse_ip returns nullopt for anything inet_pton rejects for both families.
[[nodiscard]] std::optional<IpAddress> parse_ip(std::string_view text);

// to_string prints the canonical inet_ntop text ("10.0.0.1", "2001:db8::1").
[[nodiscard]] std::string to_string(const IpAddress& ip);

// IpNetwork is an address range in CIDR form; host bits are cleared.
// An IPv4 network contains only IPv4 addresses and an IPv6 network only
// IPv6 ones (::/0 does not contain 10.0.0.1), as in Go's IPNet.Contains; a
// network inside ::ffff:0:0/96 is stored as the IPv4 network it denotes.
struct IpNetwork {
  IpAddress address;
  int prefix_length = 32;

  [[nodiscard]] bool contains(const IpAddress& ip) const;
  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

// parse_ip_network accepts "addr/len" (len in 0..32 or 0..128, decimal
// without leading zeros) or a single address, which becomes a /32 or /128.
[[nodiscard]] std::optional<IpNetwork> parse_ip_network(std::string_view text);

// to_string prints "10.0.0.0/8".
[[nodiscard]] std::string to_string(const IpNetwork& network);

}  // namespace keystep::policy
