#pragma once
// Test-only helpers for the revocation tests: a CA loaded from make_pki(),
// leaves it issues, a temporary directory, and a runner for the openssl
// command-line tool (the independent verifier). Header-only.

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "issuer/crypto/certificate_builder.h"
#include "issuer/signing/certificate_authority.h"
#include "tests/support/pki.h"

namespace keystep::revocation::testing {

using namespace std::chrono_literals;

// TestCa is a loaded CertificateAuthority plus the PEM that made it.
struct TestCa {
  keystep::testing::TestPki pki;
  std::shared_ptr<const signing::CertificateAuthority> ca;
};

inline TestCa make_test_ca(const std::string& kty = "EC", const std::string& crv = "P-256") {
  TestCa out;
  out.pki = keystep::testing::make_pki(kty, crv);
  auto ca = signing::CertificateAuthority::load(
      {out.pki.intermediate_pem, out.pki.intermediate_key_pem, out.pki.root_pem}, std::chrono::system_clock::now());
  REQUIRE(ca);
  out.ca = *ca;
  return out;
}

// make_leaf issues a leaf from `ca`; with crl_url it carries a CRL
// distribution point naming that URL.
inline crypto::Certificate make_leaf(const signing::CertificateAuthority& ca, const std::string& cn,
                                     const std::string& crl_url = "") {
  auto key = keystep::testing::make_key();
  crypto::CertificateBuilder b;
  REQUIRE(b.set_random_serial());
  REQUIRE(b.set_subject_common_name(cn));
  REQUIRE(b.set_issuer(ca.intermediate()));
  const auto now = std::chrono::system_clock::now();
  REQUIRE(b.set_validity(now - 1h, now + 24h));
  REQUIRE(b.set_public_key(key.get()));
  REQUIRE(b.add_basic_constraints(false, -1));
  REQUIRE(b.add_key_usage(KU_DIGITAL_SIGNATURE));
  if (!crl_url.empty()) {
    crypto::X509ExtensionPtr ext(
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_crl_distribution_points, ("URI:" + crl_url).c_str()));
    REQUIRE(ext);
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext.get());
    const unsigned char* bytes = ASN1_STRING_get0_data(data);
    REQUIRE(b.add_der_extension("2.5.29.31",
                                std::vector<unsigned char>(bytes, bytes + ASN1_STRING_length(data)), false));
  }
  auto leaf = b.sign(ca.key());
  REQUIRE(leaf);
  return *leaf;
}

// TempDir is a fresh directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "keystep-revocation-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir fails nothing
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // write stores `content` in the directory and returns its path.
  std::string write(const std::string& name, std::string_view content) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
    return file.string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// run executes a shell command and collects its output; `command` must
// quote its own arguments (the tests use temp paths without spaces).
inline CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// require_openssl_cli fails the test, saying what to install, when the
// openssl tool is missing: these tests never skip.
inline void require_openssl_cli() {
  auto version = run("openssl version");
  INFO(version.output);
  if (version.exit_code != 0 || version.output.find("OpenSSL 3") == std::string::npos) {
    FAIL("the openssl 3 command-line tool is required on PATH (Debian: apt-get install openssl)");
  }
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace keystep::revocation::testing
