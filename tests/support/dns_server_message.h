#pragma once
// Test-only (header-only): the wire-format half of testing::DnsServer
// (dns_server.h). dns::answer turns one query message (RFC 1035 §4) into
// the authoritative response from a Zone; the rules it follows are listed
// in dns_server.h. Pure functions, safe from any thread.

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keystep::testing::dns {

using TxtRecord = std::vector<std::string>;  // one TXT record's character-strings

struct Records {
  std::vector<TxtRecord> txt;
  std::vector<std::array<unsigned char, 4>> a;
  std::vector<std::array<unsigned char, 16>> aaaa;

  [[nodiscard]] bool empty() const { return txt.empty() && a.empty() && aaaa.empty(); }
};

// Zone maps a normalized owner name to its records.
using Zone = std::map<std::string, Records>;

inline constexpr std::uint16_t kTypeA = 1, kTypeTxt = 16, kTypeAaaa = 28, kTypeOpt = 41,
                               kTypeAny = 255, kClassIn = 1;
inline constexpr std::uint16_t kEdnsPayload = 1232;  // what we advertise (DNS flag day 2020)
inline constexpr int kNoError = 0, kFormErr = 1, kNxDomain = 3, kNotImp = 4, kRefused = 5;

// normalize lowercases ASCII and drops trailing dots: "A.Example." -> "a.example".
inline std::string normalize(std::string_view name) {
  std::string out(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// split_txt cuts a value into character-strings of at most 255 bytes.
inline TxtRecord split_txt(const std::string& value) {
  TxtRecord out;
  for (std::size_t at = 0; at < value.size(); at += 255) out.push_back(value.substr(at, 255));
  if (out.empty()) out.emplace_back();
  return out;
}

inline void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

inline std::uint16_t get16(std::string_view m, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(m[at]) << 8) |
                                    static_cast<unsigned char>(m[at + 1]));
}

// is_ancestor reports whether name is an empty non-terminal of zone
// (RFC 8020: NOERROR, not NXDOMAIN).
inline bool is_ancestor(const Zone& zone, const std::string& name) {
  const std::string suffix = "." + name;
  for (const auto& [owner, records] : zone) {
    if (!records.empty() && owner.size() > suffix.size() &&
        owner.compare(owner.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

// answer_records are the answer RRs of qtype, named by a pointer to the
// question (offset 12), TTL 0.
inline std::vector<std::string> answer_records(const Records& r, std::uint16_t qtype) {
  std::vector<std::string> out;
  auto add = [&out](std::uint16_t type, const std::string& rdata) {
    std::string rr = "\xc0\x0c";
    put16(rr, type);
    put16(rr, kClassIn);
    rr.append(4, '\0');
    put16(rr, static_cast<std::uint16_t>(rdata.size()));
    out.push_back(rr + rdata);
  };
  const bool is_any = qtype == kTypeAny;
  if (qtype == kTypeTxt || is_any) {
    for (const auto& record : r.txt) {
      std::string rdata;
      for (const auto& s : record) {
        rdata += static_cast<char>(s.size());
        rdata += s;
      }
      add(kTypeTxt, rdata);
    }
  }
  if (qtype == kTypeA || is_any) {
    for (const auto& a : r.a) add(kTypeA, std::string(a.begin(), a.end()));
  }
  if (qtype == kTypeAaaa || is_any) {
    for (const auto& a : r.aaaa) add(kTypeAaaa, std::string(a.begin(), a.end()));
  }
  return out;
}

// answer builds the response to query q, or nullopt to drop it (too short,
// or itself a response). zone() is called once per answered question.
template <class ZoneFn>
std::optional<std::string> answer(std::string_view q, bool is_tcp, ZoneFn&& zone) {
  if (q.size() < 12 || (static_cast<unsigned char>(q[2]) & 0x80) != 0) return std::nullopt;
  const auto flags = static_cast<unsigned char>(q[2]);
  const int opcode = (flags >> 3) & 0x0f;
  auto header = [&](int rcode, bool has_question) {
    std::string out(q.substr(0, 2));
    // QR, the opcode asked, AA, RD as asked; no RA: we do not recurse.
    out += static_cast<char>(0x80 | (opcode << 3) | 0x04 | (flags & 0x01));
    out += static_cast<char>(rcode);
    put16(out, has_question ? 1 : 0);
    out.append(6, '\0');  // ANCOUNT, NSCOUNT, ARCOUNT
    return out;
  };
  if (opcode != 0) return header(kNotImp, false);
  if (get16(q, 4) != 1) return header(kFormErr, false);

  std::string name;
  std::size_t at = 12;
  for (;;) {
    if (at >= q.size()) return header(kFormErr, false);
    const auto label = static_cast<unsigned char>(q[at++]);
    if (label == 0) break;
    if ((label & 0xc0) != 0 || at + label > q.size() || at - 12 + label > 254) {
      return header(kFormErr, false);
    }
    if (!name.empty()) name += '.';
    name.append(q.substr(at, label));
    at += label;
  }
  if (at + 4 > q.size()) return header(kFormErr, false);
  const std::uint16_t qtype = get16(q, at);
  const std::uint16_t qclass = get16(q, at + 2);
  const std::string_view question = q.substr(12, at + 4 - 12);  // echoed as asked
  name = normalize(name);

  // EDNS0 (RFC 6891): an OPT record after the question gives the client's
  // UDP payload size.
  bool has_edns = false;
  std::size_t payload = 512;
  std::size_t rr = at + 4;
  const int records = get16(q, 6) + get16(q, 8) + get16(q, 10);
  for (int i = 0; i < records && rr < q.size(); ++i) {
    while (rr < q.size() && q[rr] != 0 && (static_cast<unsigned char>(q[rr]) & 0xc0) == 0) {
      rr += 1 + static_cast<unsigned char>(q[rr]);
    }
    rr += (rr < q.size() && (static_cast<unsigned char>(q[rr]) & 0xc0) != 0) ? 2 : 1;
    if (rr + 10 > q.size()) break;
    if (get16(q, rr) == kTypeOpt) {
      has_edns = true;
      payload = std::max<std::size_t>(512, get16(q, rr + 2));
    }
    rr += 10 + get16(q, rr + 8);
  }
  const std::size_t limit =
      is_tcp ? 65535 : (has_edns ? std::min<std::size_t>(payload, kEdnsPayload) : 512);

  int rcode = kNoError;
  std::vector<std::string> answers;
  if (qclass != kClassIn && qclass != kTypeAny) {
    rcode = kRefused;
  } else {
    const Zone all = zone();
    const auto found = all.find(name);
    if (found != all.end() && !found->second.empty()) {
      answers = answer_records(found->second, qtype);
    } else if (!is_ancestor(all, name)) {
      rcode = kNxDomain;
    }
  }
  auto build = [&](bool is_truncated) {
    std::string out = header(rcode, true);
    if (is_truncated) out[2] = static_cast<char>(out[2] | 0x02);  // TC: ask again over TCP
    out += question;
    if (!is_truncated) {
      out[6] = static_cast<char>(answers.size() >> 8);
      out[7] = static_cast<char>(answers.size() & 0xff);
      for (const auto& a : answers) out += a;
    }
    if (has_edns) {
      out[11] = 1;
      out += '\0';  // root owner name
      put16(out, kTypeOpt);
      put16(out, kEdnsPayload);
      out.append(4, '\0');  // extended rcode 0, version 0, no DO bit
      put16(out, 0);
    }
    return out;
  };
  std::string reply = build(false);
  if (reply.size() > limit) reply = build(true);
  return reply;
}

}  // namespace keystep::testing::dns
