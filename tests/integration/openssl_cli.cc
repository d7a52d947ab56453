#include "tests/integration/openssl_cli.h"

#include <cctype>
#include <ctime>
#include <sstream>
#include <vector>

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;

std::string openssl_out(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw HarnessError(cmd + "failed: " + r.describe());
  }
  return r.out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t indent_of(const std::string& line) { return line.find_first_not_of(' '); }

// after_equals returns what follows the first '=' of "name=value\n".
std::string after_equals(const std::string& line) {
  auto eq = line.find('=');
  if (eq == std::string::npos) throw HarnessError("unexpected openssl output: " + line);
  return trim(std::string_view(line).substr(eq + 1));
}

std::chrono::system_clock::time_point parse_openssl_time(const std::string& text) {
  // "Nov 22 13:32:56 2026 GMT"
  std::tm tm{};
  std::istringstream in(text);
  char month[4] = {};
  in.read(month, 3);
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  tm.tm_mon = -1;
  for (int m = 0; m < 12; ++m) {
    if (std::string_view(month) == kMonths[m]) tm.tm_mon = m;
  }
  char c1, c2;
  in >> tm.tm_mday >> tm.tm_hour >> c1 >> tm.tm_min >> c2 >> tm.tm_sec >> tm.tm_year;
  if (!in || tm.tm_mon < 0 || c1 != ':' || c2 != ':') throw HarnessError("unexpected openssl time: " + text);
  tm.tm_year -= 1900;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string x509_text(const fs::path& cert) { return openssl_out({"x509", "-noout", "-text", "-in", cert.string()}); }

Extension extension(std::string_view text, std::string_view name) {
  Extension ext;
  auto lines = lines_of(text);
  const std::string title = std::string(name) + ":";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto at = lines[i].find(title);
    if (at == std::string::npos || trim(lines[i]).rfind(title, 0) != 0) continue;
    ext.present = true;
    ext.critical = lines[i].find("critical", at + title.size()) != std::string::npos;
    const std::size_t header_indent = indent_of(lines[i]);
    std::string value;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      auto indent = indent_of(lines[j]);
      if (indent == std::string::npos || indent <= header_indent) break;
      value += (value.empty() ? "" : " ") + trim(lines[j]);
    }
    ext.value = value;
    return ext;
  }
  return ext;
}

std::string key_identifier(const Extension& ext) {
  std::string v = ext.value;
  if (v.rfind("keyid:", 0) == 0) v = v.substr(6);
  std::string out;
  for (char c : v) {
    if (std::isxdigit(static_cast<unsigned char>(c)) || c == ':')
      out += static_cast<char>(std::toupper(c));
    else
      break;  // e.g. " DirName:..." after the key id
  }
  return out;
}

Validity validity(const fs::path& cert) {
  auto lines = lines_of(openssl_out({"x509", "-noout", "-dates", "-in", cert.string()}));
  Validity v;
  bool nb = false, na = false;
  for (const auto& line : lines) {
    if (line.rfind("notBefore=", 0) == 0) v.not_before = parse_openssl_time(after_equals(line)), nb = true;
    if (line.rfind("notAfter=", 0) == 0) v.not_after = parse_openssl_time(after_equals(line)), na = true;
  }
  if (!nb || !na) throw HarnessError("openssl x509 -dates printed no dates for " + cert.string());
  return v;
}

std::string serial_hex(const fs::path& cert) {
  return after_equals(openssl_out({"x509", "-noout", "-serial", "-in", cert.string()}));
}

std::string sha256_fingerprint(const fs::path& cert) {
  return after_equals(openssl_out({"x509", "-noout", "-fingerprint", "-sha256", "-in", cert.string()}));
}

std::string sha256_hex(const fs::path& cert) {
  std::string out;
  for (char c : sha256_fingerprint(cert)) {
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string certificate_public_key(const fs::path& cert) {
  return openssl_out({"x509", "-noout", "-pubkey", "-in", cert.string()});
}

std::string private_key_public_key(const fs::path& key) {
  return openssl_out({"pkey", "-pubout", "-in", key.string()});
}

RunResult verify_chain(const fs::path& root, const fs::path& untrusted, const fs::path& leaf) {
  std::vector<std::string> argv{"openssl", "verify", "-CAfile", root.string()};
  if (!untrusted.empty()) argv.insert(argv.end(), {"-untrusted", untrusted.string()});
  argv.push_back(leaf.string());
  return run(argv);
}

std::size_t split_pem_chain(const fs::path& bundle, const fs::path& dir, const std::string& name) {
  const std::string text = read_text(bundle);
  const std::string end = "-----END CERTIFICATE-----";
  std::size_t count = 0;
  for (std::size_t at = text.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = text.find("-----BEGIN CERTIFICATE-----", at)) {
    auto stop = text.find(end, at);
    if (stop == std::string::npos) throw HarnessError(bundle.string() + " holds a truncated certificate");
    write_text(dir / (name + "-" + std::to_string(count++) + ".crt"), text.substr(at, stop + end.size() - at) + "\n");
    at = stop;
  }
  return count;
}

}  // namespace keystep::integration
