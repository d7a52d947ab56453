#pragma once
// Fixtures for driving real ACME clients (certbot, lego, dehydrated, uacme)
// against a real `keystep serve`: a CA with ACME provisioners whose
// validators look at ports the test chose, the /etc/hosts names the
// validators resolve, a transcript of every client command for failure
// messages, and openssl checks of what the clients were issued.
//
// Helpers throw HarnessError with the client's transcript and the server
// log, which Catch2 reports as a failed test. Not thread-safe.

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/ca_fixture.h"
#include "tests/integration/harness.h"

namespace keystep::integration {

// kClientTimeout bounds one client command (an issuance polls the order).
inline constexpr std::chrono::seconds kClientTimeout{150};

// The names the clients ask for; ensure_acme_hosts maps them to 127.0.0.1.
inline constexpr char kNameA[] = "acme-a.keystep.test";
inline constexpr char kNameB[] = "acme-b.keystep.test";
inline constexpr char kNameC[] = "acme-c.keystep.test";
inline constexpr char kNameW[] = "w.keystep.test";

// ensure_acme_hosts makes kNameA..kNameW resolve to 127.0.0.1 through the
// system resolver, appending one marked line to /etc/hosts for the names it
// lacks. Throws HarnessError when /etc/hosts cannot be written (run as root,
// as CI does) or the names still do not resolve to 127.0.0.1 afterwards.
void ensure_acme_hosts();

// AcmeProvisionerSpec is one `type: ACME` provisioner for keystep.yaml.
struct AcmeProvisionerSpec {
  std::string name = "acme";
  std::vector<std::string> challenges;  // empty: keystep's default (all three)
  unsigned short http01_port = 0;       // 0: keystep's default (80)
  unsigned short tls_alpn01_port = 0;   // 0: keystep's default (443)
  std::string dns_resolver;             // "host:port"; "": the system resolver
};

// append_acme_provisioner adds spec to the provisioners list (the last
// section) of a config written by `keystep init`, with short validation
// timeouts so a failing challenge fails the client quickly.
void append_acme_provisioner(const std::filesystem::path& config, const AcmeProvisionerSpec& spec);

// AcmeCa is a RunningCa (no password) serving one ACME provisioner
// and a plain-HTTP listener that openssl asks for OCSP.
struct AcmeCa {
  explicit AcmeCa(const AcmeProvisionerSpec& provisioner);

  [[nodiscard]] std::string directory_url(const std::string& provisioner = "acme") const;
  [[nodiscard]] unsigned short plain_port() const;

  RunningCa ca;
};

// ClientSession runs one ACME client binary and keeps a transcript of every
// command with its output. The constructor throws HarnessError naming the
// Debian package when the client is not on PATH (never a skip).
class ClientSession {
 public:
  ClientSession(const AcmeCa& ca, const std::string& client, std::vector<std::pair<std::string, std::string>> env = {});

  // launcher goes before the client's path in argv (e.g. an unshare wrapper).
  void set_launcher(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }

  // run runs the client with args and the session's environment, bounded by
  // timeout, and records it.
  RunResult run(const std::vector<std::string>& args, std::chrono::seconds timeout = kClientTimeout);
  // require runs and throws HarnessError with report() unless it exits 0.
  RunResult require(const std::vector<std::string>& args, const std::string& what);
  // note adds text (a web server's request list, a file) to the transcript.
  void note(const std::string& title, const std::string& text);

  // report is the transcript and the tail of the server log.
  [[nodiscard]] std::string report() const;
  [[noreturn]] void fail(const std::string& why) const;

  [[nodiscard]] const AcmeCa& ca() const { return ca_; }

 private:
  const AcmeCa& ca_;
  std::string client_;
  std::filesystem::path binary_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::vector<std::string> launcher_;
  std::string transcript_;
};

// Issued is what require_issued checked: the leaf (its own file) and serial.
struct Issued {
  std::filesystem::path leaf;
  std::string serial;  // upper-case hex, as openssl prints it
};

// require_issued splits a client's full-chain PEM into work_dir/label-N.crt,
// then requires that openssl verifies leaf + intermediates against the PKI
// root, that the leaf's DNS SANs are exactly names, and (when key is given)
// that the leaf holds key's public key.
Issued require_issued(ClientSession& session, const std::filesystem::path& fullchain,
                      const std::vector<std::string>& names, const std::filesystem::path& work_dir,
                      const std::string& label, const std::filesystem::path& key = {});

// require_revoked requires that the CA's OCSP responder (`openssl ocsp` on
// the plain listener) and then its current CRL (GET /1.0/crl?pem, checked
// by `openssl verify -crl_check`) both report the leaf revoked.
void require_revoked(ClientSession& session, const Issued& issued, const std::filesystem::path& work_dir);

// require_not_revoked is the opposite check, for certificates that must
// stay good (the renewed one after the old one was revoked).
void require_not_revoked(ClientSession& session, const Issued& issued, const std::filesystem::path& work_dir);

// valid_challenges counts the server's "acme challenge valid" log lines for
// challenge type (http-01, dns-01, tls-alpn-01).
[[nodiscard]] std::size_t valid_challenges(const AcmeCa& ca, const std::string& type);

// write_script writes an executable (0755) shell script.
void write_script(const std::filesystem::path& path, const std::string& text);

}  // namespace keystep::integration
