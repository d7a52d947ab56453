#include "tests/integration/acme_clients_fixture.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/integration/openssl_cli.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;

constexpr char kHostsFile[] = "/etc/hosts";
constexpr char kHostsMarker[] = "# keystep acme_clients_test";
constexpr std::size_t kServerLogTail = 24 * 1024;

// hosts_names is every name /etc/hosts maps to 127.0.0.1.
std::set<std::string> loopback_names(const std::string& hosts) {
  std::set<std::string> names;
  std::istringstream lines(hosts);
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string ip, name;
    if (!(words >> ip) || ip != "127.0.0.1") continue;
    while (words >> name) names.insert(name);
  }
  return names;
}

// resolves_to_loopback asks the system resolver, as keystep's validators do.
bool resolves_to_loopback(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return false;
  bool loopback = false;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
    if (in->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) loopback = true;
  }
  freeaddrinfo(found);
  return loopback;
}

fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
  }
  return {};
}

std::string tail(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  return "[... " + std::to_string(text.size() - bytes) + " bytes cut ...]\n" + text.substr(text.size() - bytes);
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

RunResult verify_with_crl(const AcmeCa& ca, const Issued& issued, const fs::path& crl) {
  return run({"openssl", "verify", "-crl_check", "-CRLfile", crl.string(), "-CAfile", ca.ca.pki.root_cert().string(),
              "-untrusted", ca.ca.pki.intermediate_cert().string(), issued.leaf.string()});
}

RunResult ocsp(const AcmeCa& ca, const Issued& issued) {
  return run({"openssl", "ocsp", "-issuer", ca.ca.pki.intermediate_cert().string(), "-cert", issued.leaf.string(),
              "-url", "http://127.0.0.1:" + std::to_string(ca.plain_port()) + "/ocsp", "-CAfile",
              ca.ca.pki.root_cert().string(), "-verify_other", ca.ca.pki.intermediate_cert().string()});
}

fs::path fetch_crl(ClientSession& session, const fs::path& work_dir) {
  auto crl = session.ca().ca.http.get("/1.0/crl?pem");
  if (crl.status != 200) session.fail("GET /1.0/crl?pem answered " + std::to_string(crl.status) + ": " + crl.body);
  const fs::path file = work_dir / "crl.pem";
  write_text(file, crl.body);
  return file;
}

std::string describe_check(const std::string& what, const RunResult& r) { return what + ": " + r.describe(); }

}  // namespace

void ensure_acme_hosts() {
  const std::vector<std::string> wanted = {kNameA, kNameB, kNameC, kNameW};
  std::string hosts;
  if (fs::exists(kHostsFile)) hosts = read_text(kHostsFile);
  const auto present = loopback_names(hosts);
  std::string missing;
  for (const auto& name : wanted) {
    if (!present.count(name)) missing += " " + name;
  }
  if (!missing.empty()) {
    std::ofstream out(kHostsFile, std::ios::app);
    if (hosts.empty() || hosts.back() != '\n') out << "\n";
    out << "127.0.0.1" << missing << " " << kHostsMarker << "\n";
    out.flush();
    if (!out) {
      throw HarnessError(std::string("cannot append to ") + kHostsFile + " (" + std::strerror(errno) +
                         "): the ACME client tests need these names on 127.0.0.1. Run them as root (CI does), "
                         "or add this line yourself:\n127.0.0.1" + missing);
    }
  }
  for (const auto& name : wanted) {
    if (!resolves_to_loopback(name)) {
      throw HarnessError(name + " does not resolve to 127.0.0.1 through the system resolver although " +
                         kHostsFile + " maps it: check the hosts line in /etc/nsswitch.conf");
    }
  }
}

void append_acme_provisioner(const fs::path& config, const AcmeProvisionerSpec& spec) {
  std::string text = read_text(config);
  if (text.find("\nprovisioners:\n") == std::string::npos) {
    throw HarnessError(config.string() + " has no provisioners list to append to");
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  // JSON is YAML: names and lists go in as JSON.
  text += "  - name: " + nlohmann::json(spec.name).dump() + "\n    type: ACME\n";
  if (!spec.challenges.empty()) text += "    challenges: " + nlohmann::json(spec.challenges).dump() + "\n";
  nlohmann::json validation = {{"timeout", "5s"}, {"attempts", 3}, {"backoff", "500ms"}};
  if (spec.http01_port != 0) validation["http01Port"] = spec.http01_port;
  if (spec.tls_alpn01_port != 0) validation["tlsALPN01Port"] = spec.tls_alpn01_port;
  if (!spec.dns_resolver.empty()) validation["dnsResolver"] = spec.dns_resolver;
  text += "    validation: " + validation.dump() + "\n";
  write_text(config, text);
}

AcmeCa::AcmeCa(const AcmeProvisionerSpec& provisioner)
    : ca({.password = false}, [&](const Pki& pki) {
        append_acme_provisioner(pki.config(), provisioner);
        // After the provisioners: a top-level key ends the list.
        std::ofstream(pki.config(), std::ios::app) << "insecureAddress: 127.0.0.1:0\n";
      }) {}

std::string AcmeCa::directory_url(const std::string& provisioner) const {
  return ca.server.url() + "/acme/" + provisioner + "/directory";
}

unsigned short AcmeCa::plain_port() const {
  const std::string log = ca.server.log();
  const std::string marker = "plain http listening address=127.0.0.1:";
  auto at = log.find(marker);
  if (at == std::string::npos) throw HarnessError("no plain listener in the log:\n" + log);
  return static_cast<unsigned short>(std::stoi(log.substr(at + marker.size())));
}

ClientSession::ClientSession(const AcmeCa& ca, const std::string& client,
                             std::vector<std::pair<std::string, std::string>> env)
    : ca_(ca), client_(client), binary_(find_on_path(client)), env_(std::move(env)) {
  if (binary_.empty()) {
    throw HarnessError(client + " is not on PATH: the ACME client tests need it; install the Debian package " +
                       client + " (hack/install-deps.sh does)");
  }
}

RunResult ClientSession::run(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv;
  if (!env_.empty()) {
    argv.push_back("env");
    for (const auto& [name, value] : env_) argv.push_back(name + "=" + value);
  }
  argv.insert(argv.end(), launcher_.begin(), launcher_.end());
  argv.push_back(binary_.string());
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = integration::run(argv, "", timeout);
  transcript_ += "\n=== $ " + join(argv) + "\n" + r.describe() + "\n";
  return r;
}

RunResult ClientSession::require(const std::vector<std::string>& args, const std::string& what) {
  RunResult r = run(args);
  if (r.exit_code != 0) fail(client_ + " " + what + " failed (exit code " + std::to_string(r.exit_code) + ")");
  return r;
}

void ClientSession::note(const std::string& title, const std::string& text) {
  transcript_ += "\n=== " + title + "\n" + text + "\n";
}

std::string ClientSession::report() const {
  return "--- " + client_ + " transcript ---" + transcript_ + "\n--- server.log (tail) ---\n" +
         tail(ca_.ca.server.log(), kServerLogTail);
}

void ClientSession::fail(const std::string& why) const { throw HarnessError(why + "\n" + report()); }

Issued require_issued(ClientSession& session, const fs::path& fullchain, const std::vector<std::string>& names,
                      const fs::path& work_dir, const std::string& label, const fs::path& key) {
  if (!fs::exists(fullchain)) session.fail("the client wrote no certificate at " + fullchain.string());
  fs::create_directories(work_dir);
  const std::size_t count = split_pem_chain(fullchain, work_dir, label);
  if (count < 2) {
    session.fail(fullchain.string() + " holds " + std::to_string(count) +
                 " certificate(s), not leaf + intermediate:\n" + read_text(fullchain));
  }
  const fs::path leaf = work_dir / (label + "-0.crt");
  const fs::path intermediates = work_dir / (label + "-chain.crt");
  std::string chain;
  for (std::size_t i = 1; i < count; ++i) chain += read_text(work_dir / (label + "-" + std::to_string(i) + ".crt"));
  write_text(intermediates, chain);

  auto verified = verify_chain(session.ca().ca.pki.root_cert(), intermediates, leaf);
  if (verified.exit_code != 0 || verified.out.find(": OK") == std::string::npos) {
    session.fail("openssl does not verify " + fullchain.string() + " against the root\n" + verified.describe());
  }
  const std::string text = x509_text(leaf);
  const Extension san = extension(text, "X509v3 Subject Alternative Name");
  std::size_t dns_count = 0;
  for (auto at = san.value.find("DNS:"); at != std::string::npos; at = san.value.find("DNS:", at + 1)) ++dns_count;
  bool all_there = dns_count == names.size();
  for (const auto& name : names) {
    const std::string entry = "DNS:" + name;
    const auto at = san.value.find(entry);
    const auto end = at + entry.size();
    if (at == std::string::npos || (end < san.value.size() && san.value[end] != ',')) all_there = false;
  }
  if (!all_there) {
    std::string wanted;
    for (const auto& n : names) wanted += " DNS:" + n;
    session.fail("the leaf's SANs are \"" + san.value + "\", not" + wanted + "\n" + text);
  }
  if (!key.empty() && certificate_public_key(leaf) != private_key_public_key(key)) {
    session.fail("the leaf does not hold the public key of " + key.string());
  }
  return {leaf, serial_hex(leaf)};
}

void require_revoked(ClientSession& session, const Issued& issued, const fs::path& work_dir) {
  auto answer = ocsp(session.ca(), issued);
  if (answer.out.find(": revoked") == std::string::npos ||
      (answer.out + answer.err).find("Response verify OK") == std::string::npos) {
    session.fail("OCSP does not answer revoked for serial " + issued.serial + "\n" +
                 describe_check("openssl ocsp", answer));
  }
  const fs::path crl = fetch_crl(session, work_dir);
  auto checked = verify_with_crl(session.ca(), issued, crl);
  if (checked.exit_code == 0 || (checked.out + checked.err).find("certificate revoked") == std::string::npos) {
    session.fail("the CRL does not list serial " + issued.serial + "\n" +
                 describe_check("openssl verify -crl_check", checked) + "\n" +
                 run({"openssl", "crl", "-in", crl.string(), "-noout", "-text"}).out);
  }
}

void require_not_revoked(ClientSession& session, const Issued& issued, const fs::path& work_dir) {
  const fs::path crl = fetch_crl(session, work_dir);
  auto checked = verify_with_crl(session.ca(), issued, crl);
  if (checked.exit_code != 0) {
    session.fail("serial " + issued.serial + " does not verify against the CRL\n" +
                 describe_check("openssl verify -crl_check", checked));
  }
  auto answer = ocsp(session.ca(), issued);
  if (answer.out.find(": good") == std::string::npos) {
    session.fail("OCSP does not answer good for serial " + issued.serial + "\n" + describe_check("openssl ocsp", answer));
  }
}

std::size_t valid_challenges(const AcmeCa& ca, const std::string& type) {
  std::istringstream lines(ca.ca.server.log());
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("acme challenge valid ") != std::string::npos && line.find(" type=" + type + " ") != std::string::npos)
      ++count;
  }
  return count;
}

void write_script(const fs::path& path, const std::string& text) {
  write_text(path, text);
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
}

}  // namespace keystep::integration
