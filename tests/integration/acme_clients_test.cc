// Real ACME clients from Debian packages against a real `keystep serve`:
// certbot (standalone http-01), lego (http-01, tls-alpn-01, dns-01 through
// its exec provider and a loopback DNS server), dehydrated and uacme
// (http-01 files published by a web server in the test). Each issues for
// one name and for several, renews and revokes; openssl verifies every
// chain against the PKI root and reads revocation from the CRL and OCSP.
//
// The validators resolve the names through /etc/hosts (ensure_acme_hosts)
// and connect to ports the test picked, set in the provisioner's
// validation block. A missing client fails its test, naming the package.

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/integration/acme_clients_fixture.h"
#include "tests/integration/acme_clients_web_server.h"
#include "tests/integration/openssl_cli.h"
#include "tests/support/dns_server.h"
#include "tests/support/process.h"

namespace keystep::integration {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Args = std::vector<std::string>;

unsigned short free_port() { return static_cast<unsigned short>(testing::free_loopback_port()); }

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Args domain_flags(const std::string& flag, const std::vector<std::string>& names) {
  Args out;
  for (const auto& n : names) out.insert(out.end(), {flag, n});
  return out;
}

// ---- certbot ----------------------------------------------------------------

TEST_CASE("certbot issues, renews and revokes over http-01", "[acme][acme-clients][certbot]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  AcmeCa acme({.http01_port = port});
  const fs::path dir = acme.ca.tmp / "certbot";
  const fs::path check = acme.ca.tmp / "check";
  ClientSession certbot(acme, "certbot", {{"REQUESTS_CA_BUNDLE", acme.ca.pki.root_cert().string()}});
  const Args dirs = {"--config-dir", (dir / "config").string(), "--work-dir", (dir / "work").string(),
                     "--logs-dir",   (dir / "logs").string(),   "--non-interactive"};
  const fs::path live = dir / "config" / "live";
  auto certonly = [&](const std::string& cert_name, const std::vector<std::string>& names) {
    certbot.require(Args{"certonly", "--standalone", "--agree-tos", "--register-unsafely-without-email", "--server",
                         acme.directory_url(), "--http-01-port", std::to_string(port), "--http-01-address",
                         "127.0.0.1", "--cert-name", cert_name} +
                        dirs + domain_flags("-d", names),
                    "certonly " + cert_name);
    return require_issued(certbot, live / cert_name / "fullchain.pem", names, check, cert_name,
                          live / cert_name / "privkey.pem");
  };

  const Issued one = certonly("one", {kNameA});
  const Issued many = certonly("many", {kNameA, kNameB, kNameC});

  certbot.require(Args{"renew", "--force-renewal", "--no-random-sleep-on-renew"} + dirs, "renew");
  const Issued one_renewed =
      require_issued(certbot, live / "one" / "fullchain.pem", {kNameA}, check, "one-renewed", live / "one" / "privkey.pem");
  const Issued many_renewed = require_issued(certbot, live / "many" / "fullchain.pem", {kNameA, kNameB, kNameC}, check,
                                             "many-renewed", live / "many" / "privkey.pem");
  {
    INFO(certbot.report());
    CHECK(one_renewed.serial != one.serial);
    CHECK(many_renewed.serial != many.serial);
    // Three distinct names, each validated at least once (a valid
    // authorization may be reused by later orders of the same account).
    CHECK(valid_challenges(acme, "http-01") >= 3);
  }

  // Good in the CRL and OCSP before (so a CRL exists), revoked after.
  require_not_revoked(certbot, many_renewed, check);
  certbot.require(Args{"revoke", "--cert-path", (live / "many" / "cert.pem").string(), "--server", acme.directory_url(),
                       "--reason", "keycompromise", "--no-delete-after-revoke"} +
                      dirs,
                  "revoke");
  require_revoked(certbot, many_renewed, check);
  require_not_revoked(certbot, one_renewed, check);
}

// ---- lego -------------------------------------------------------------------

// Lego is one lego --path with the CA's root trusted.
struct Lego {
  Lego(const AcmeCa& acme, std::vector<std::pair<std::string, std::string>> extra_env = {})
      : dir(acme.ca.tmp / "lego"), session(acme, "lego", env(acme, std::move(extra_env))), acme_(acme) {}

  // args is the global flags for names and a solver (--http ...), then command.
  [[nodiscard]] Args args(const std::vector<std::string>& names, const Args& solver, const Args& command) const {
    return Args{"--server", acme_.directory_url(), "--email", "ops@example.com", "--accept-tos", "--path",
                dir.string()} +
           domain_flags("--domains", names) + solver + command;
  }
  // certificate is lego's bundle for the first name ("*." becomes "_.").
  [[nodiscard]] fs::path certificate(std::string name, const std::string& ext = ".crt") const {
    if (name.rfind("*.", 0) == 0) name.replace(0, 1, "_");
    return dir / "certificates" / (name + ext);
  }

  fs::path dir;
  ClientSession session;

 private:
  static std::vector<std::pair<std::string, std::string>> env(const AcmeCa& acme,
                                                              std::vector<std::pair<std::string, std::string>> extra) {
    extra.emplace_back("LEGO_CA_CERTIFICATES", acme.ca.pki.root_cert().string());
    return extra;
  }
  const AcmeCa& acme_;
};

TEST_CASE("lego issues, renews and revokes over http-01", "[acme][acme-clients][lego]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  AcmeCa acme({.http01_port = port});
  Lego lego(acme);
  const fs::path check = acme.ca.tmp / "check";
  const Args http = {"--http", "--http.port", ":" + std::to_string(port)};

  lego.session.require(lego.args({kNameA}, http, {"run"}), "run " + std::string(kNameA));
  const Issued a = require_issued(lego.session, lego.certificate(kNameA), {kNameA}, check, "a",
                                  lego.certificate(kNameA, ".key"));

  const std::vector<std::string> several = {kNameB, kNameC};
  lego.session.require(lego.args(several, http, {"run"}), "run for several names");
  const Issued bc = require_issued(lego.session, lego.certificate(kNameB), several, check, "bc",
                                   lego.certificate(kNameB, ".key"));

  lego.session.require(lego.args(several, http, {"renew", "--days", "100000", "--no-random-sleep"}), "renew");
  const Issued renewed = require_issued(lego.session, lego.certificate(kNameB), several, check, "bc-renewed",
                                        lego.certificate(kNameB, ".key"));
  {
    INFO(lego.session.report());
    CHECK(renewed.serial != bc.serial);
    CHECK(valid_challenges(acme, "http-01") >= 3);
  }

  require_not_revoked(lego.session, renewed, check);
  // revoke treats every --domains as a certificate of its own: name one.
  lego.session.require(lego.args({kNameB}, http, {"revoke", "--reason", "4"}), "revoke");
  require_revoked(lego.session, renewed, check);
  require_not_revoked(lego.session, a, check);
}

TEST_CASE("lego issues over tls-alpn-01", "[acme][acme-clients][lego]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  AcmeCa acme({.challenges = {"tls-alpn-01"}, .tls_alpn01_port = port});
  Lego lego(acme);
  const Args tls = {"--tls", "--tls.port", ":" + std::to_string(port)};
  const std::vector<std::string> names = {kNameA, kNameB};

  lego.session.require(lego.args(names, tls, {"run"}), "run over tls-alpn-01");
  (void)require_issued(lego.session, lego.certificate(kNameA), names, acme.ca.tmp / "check", "ab",
                       lego.certificate(kNameA, ".key"));
  INFO(lego.session.report());
  CHECK(valid_challenges(acme, "tls-alpn-01") == names.size());
}

// The exec provider's script: $1 present|cleanup, $2 the record's FQDN
// (trailing dot), $3 its value; one file per record name in the zone
// directory, one value a line, as DnsServer reads them.
std::string dns_exec_script(const fs::path& zone, const fs::path& scratch) {
  return "#!/bin/sh\n"
         "set -eu\n"
         "name=${2%.}\n"
         "file='" + zone.string() + "'/\"$name\"\n"
         "case \"$1\" in\n"
         "  present) printf '%s\\n' \"$3\" >> \"$file\" ;;\n"
         "  cleanup)\n"
         "    tmp='" + scratch.string() + "'/\"$name\"\n"
         "    if [ -f \"$file\" ]; then grep -vxF -e \"$3\" \"$file\" > \"$tmp\" || true; mv \"$tmp\" \"$file\"; fi ;;\n"
         "  *) echo \"unknown action $1\" >&2; exit 2 ;;\n"
         "esac\n";
}

TEST_CASE("lego issues a wildcard over dns-01", "[acme][acme-clients][lego]") {
  TempDir zone_root;
  const fs::path zone = zone_root / "zone";
  const fs::path scratch = zone_root / "scratch";
  fs::create_directories(zone);
  fs::create_directories(scratch);
  testing::DnsServer dns({.dir = zone});
  AcmeCa acme({.challenges = {"dns-01"}, .dns_resolver = dns.address()});
  const fs::path script = zone_root / "lego-dns.sh";
  write_script(script, dns_exec_script(zone, scratch));
  Lego lego(acme, {{"EXEC_PATH", script.string()},
                   {"EXEC_PROPAGATION_TIMEOUT", "30"},
                   {"EXEC_POLLING_INTERVAL", "1"},
                   {"EXEC_SEQUENCE_INTERVAL", "1"}});
  const Args solver = {"--dns", "exec", "--dns.resolvers", dns.address(), "--dns.disable-cp"};
  const std::string wildcard = std::string("*.") + kNameW;
  const std::vector<std::string> names = {wildcard, kNameW};

  lego.session.require(lego.args(names, solver, {"run"}), "run over dns-01");
  (void)require_issued(lego.session, lego.certificate(wildcard), names, acme.ca.tmp / "check", "w",
                       lego.certificate(wildcard, ".key"));
  const std::string record = read_text(zone / ("_acme-challenge." + std::string(kNameW)));
  lego.session.note("zone file after cleanup", record);
  INFO(lego.session.report());
  CHECK(valid_challenges(acme, "dns-01") == names.size());
  CHECK(dns.query_count() >= names.size());
  CHECK(record.empty());  // the script's cleanup ran for both values
}

TEST_CASE("lego is refused a wildcard over http-01", "[acme][acme-clients][lego]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  // Without dns-01 on offer, a wildcard has no challenge it could pass.
  AcmeCa acme({.challenges = {"http-01"}, .http01_port = port});
  Lego lego(acme);
  auto r = lego.session.run(
      lego.args({std::string("*.") + kNameW}, {"--http", "--http.port", ":" + std::to_string(port)}, {"run"}));
  INFO(lego.session.report());
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out + r.err, Contains("rejectedIdentifier"));
  CHECK(acme.ca.server.count("certificate issued") == 0);
}

// ---- dehydrated -----------------------------------------------------------

TEST_CASE("dehydrated issues, renews and revokes over http-01", "[acme][acme-clients][dehydrated]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  AcmeCa acme({.http01_port = port});
  const fs::path dir = acme.ca.tmp / "dehydrated";
  const fs::path webroot = dir / "www";
  const fs::path wellknown = webroot / ".well-known" / "acme-challenge";
  const fs::path check = acme.ca.tmp / "check";
  fs::create_directories(wellknown);
  ChallengeWebServer web(webroot, port);
  const fs::path config = dir / "config";
  // dehydrated's config is shell; its curl calls trust only the PKI root.
  write_text(config, "CA='" + acme.directory_url() + "'\n" +
                         "CHALLENGETYPE=http-01\n"
                         "BASEDIR='" + dir.string() + "'\n" +
                         "WELLKNOWN='" + wellknown.string() + "'\n" +
                         "CURL_OPTS='--cacert " + acme.ca.pki.root_cert().string() + "'\n" +
                         "CONTACT_EMAIL=ops@example.com\n"
                         "KEY_ALGO=prime256v1\n");
  ClientSession dehydrated(acme, "dehydrated");
  const Args base = {"--config", config.string()};
  auto certs = [&](const std::string& name, const std::string& file) { return dir / "certs" / name / file; };

  dehydrated.require(base + Args{"--register", "--accept-terms"}, "--register");
  dehydrated.require(base + Args{"--cron", "--domain", kNameA}, "--cron for one name");
  const Issued a = require_issued(dehydrated, certs(kNameA, "fullchain.pem"), {kNameA}, check, "a",
                                  certs(kNameA, "privkey.pem"));

  const std::vector<std::string> several = {kNameB, kNameC};
  dehydrated.require(base + Args{"--cron"} + domain_flags("--domain", several), "--cron for several names");
  const Issued bc = require_issued(dehydrated, certs(kNameB, "fullchain.pem"), several, check, "bc",
                                   certs(kNameB, "privkey.pem"));

  dehydrated.require(base + Args{"--cron", "--force"} + domain_flags("--domain", several), "--cron --force");
  const Issued renewed = require_issued(dehydrated, certs(kNameB, "fullchain.pem"), several, check, "bc-renewed",
                                        certs(kNameB, "privkey.pem"));
  std::string served;
  for (const auto& line : web.requests()) served += line + "\n";
  dehydrated.note("challenge web server requests", served);
  {
    INFO(dehydrated.report());
    CHECK(renewed.serial != bc.serial);
    CHECK(valid_challenges(acme, "http-01") >= 3);
    CHECK_THAT(served, Contains("/.well-known/acme-challenge/") && Contains("-> 200"));
  }

  require_not_revoked(dehydrated, renewed, check);
  dehydrated.require(base + Args{"--revoke", certs(kNameB, "cert.pem").string()}, "--revoke");
  require_revoked(dehydrated, renewed, check);
  require_not_revoked(dehydrated, a, check);
}

// ---- uacme ------------------------------------------------------------------

// uacme's hook (its man page's example): publish the key authorization
// for http-01 under the web root, decline every other challenge type.
std::string uacme_hook(const fs::path& challenge_dir) {
  return "#!/bin/sh\n"
         "# uacme hook: METHOD TYPE IDENT TOKEN AUTH\n"
         "dir='" + challenge_dir.string() + "'\n"
         "[ \"$2\" = http-01 ] || exit 1\n"
         "case \"$1\" in\n"
         "  begin) printf '%s' \"$5\" > \"$dir/$4\" ;;\n"
         "  done|failed) rm -f \"$dir/$4\" ;;\n"
         "  *) exit 1 ;;\n"
         "esac\n";
}

TEST_CASE("uacme issues, renews and revokes over http-01", "[acme][acme-clients][uacme]") {
  ensure_acme_hosts();
  const unsigned short port = free_port();
  AcmeCa acme({.http01_port = port});
  const fs::path dir = acme.ca.tmp / "uacme";
  const fs::path conf = dir / "conf";
  const fs::path webroot = dir / "www";
  const fs::path challenges = webroot / ".well-known" / "acme-challenge";
  const fs::path check = acme.ca.tmp / "check";
  fs::create_directories(challenges);
  fs::create_directories(conf);
  ChallengeWebServer web(webroot, port);
  const fs::path hook = dir / "hook.sh";
  write_script(hook, uacme_hook(challenges));

  // uacme (libcurl-gnutls) has no flag or variable for a CA bundle: it trusts
  // /etc/ssl/certs. It runs in a private mount namespace in which a folder
  // holding only the PKI root (as the bundle and by subject hash) is
  // bind-mounted over /etc/ssl/certs; the machine's trust store is untouched.
  const fs::path trust = dir / "trust";
  fs::create_directories(trust);
  const std::string root_pem = read_text(acme.ca.pki.root_cert());
  write_text(trust / "ca-certificates.crt", root_pem);
  auto hash = run({"openssl", "x509", "-noout", "-subject_hash", "-in", acme.ca.pki.root_cert().string()});
  require_ok(hash, "openssl x509 -subject_hash");
  write_text(trust / (without_trailing_newlines(hash.out) + ".0"), root_pem);
  ClientSession uacme(acme, "uacme");
  uacme.set_launcher({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                      "mount --bind \"$0\" /etc/ssl/certs || { echo 'uacme test: bind-mounting the PKI root over "
                      "/etc/ssl/certs needs root with CAP_SYS_ADMIN' >&2; exit 97; }; exec \"$@\"",
                      trust.string()});
  const Args base = {"--confdir", conf.string(), "--acme-url", acme.directory_url(), "--verbose"};
  const Args issue = base + Args{"--hook", hook.string(), "issue"};
  auto cert = [&](const std::string& name) { return conf / name / "cert.pem"; };
  auto key = [&](const std::string& name) { return conf / "private" / name / "key.pem"; };

  uacme.require(base + Args{"--yes", "new", "ops@example.com"}, "new");
  uacme.require(issue + Args{kNameA}, "issue for one name");
  const Issued a = require_issued(uacme, cert(kNameA), {kNameA}, check, "a", key(kNameA));

  const std::vector<std::string> several = {kNameB, kNameC};
  uacme.require(issue + several, "issue for several names");
  const Issued bc = require_issued(uacme, cert(kNameB), several, check, "bc", key(kNameB));

  uacme.require(base + Args{"--force", "--hook", hook.string(), "issue"} + several, "issue --force");
  const Issued renewed = require_issued(uacme, cert(kNameB), several, check, "bc-renewed", key(kNameB));
  {
    INFO(uacme.report());
    CHECK(renewed.serial != bc.serial);
    CHECK(valid_challenges(acme, "http-01") >= 3);
  }

  // Signed with the account key; uacme renames the file it revoked.
  const fs::path revoked = dir / "revoke-me.pem";
  fs::copy_file(cert(kNameB), revoked);
  require_not_revoked(uacme, renewed, check);
  uacme.require(base + Args{"--reason", "4", "revoke", revoked.string()}, "revoke");
  require_revoked(uacme, renewed, check);
  require_not_revoked(uacme, a, check);
}

}  // namespace
}  // namespace keystep::integration
