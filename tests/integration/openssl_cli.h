#pragma once
// The openssl command line as the independent judge of what keystep wrote:
// certificate text, dates, serials, fingerprints and chain verification all
// come from `openssl`, never from keystep's own parser. Helpers throw
// HarnessError with openssl's output when openssl itself fails.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "tests/integration/harness.h"

namespace keystep::integration {

// x509_text is `openssl x509 -noout -text -in cert`.
[[nodiscard]] std::string x509_text(const std::filesystem::path& cert);

// Extension is one extension of x509_text: whether openssl marked it
// critical, and its value lines joined with single spaces.
struct Extension {
  bool present = false;
  bool critical = false;
  std::string value;
};

// extension finds the extension titled name ("X509v3 Key Usage").
[[nodiscard]] Extension extension(std::string_view x509_text, std::string_view name);

// key_identifier is the hex of a Subject/Authority Key Identifier value
// ("keyid:" prefix and line breaks removed, upper case with colons).
[[nodiscard]] std::string key_identifier(const Extension& ext);

struct Validity {
  std::chrono::system_clock::time_point not_before, not_after;
  [[nodiscard]] std::chrono::seconds length() const {
    return std::chrono::duration_cast<std::chrono::seconds>(not_after - not_before);
  }
};

// validity is `openssl x509 -noout -dates`.
[[nodiscard]] Validity validity(const std::filesystem::path& cert);

// serial_hex is `openssl x509 -noout -serial`: upper-case hex.
[[nodiscard]] std::string serial_hex(const std::filesystem::path& cert);

// sha256_fingerprint is `openssl x509 -noout -fingerprint -sha256`:
// "AB:CD:...", upper case with colons.
[[nodiscard]] std::string sha256_fingerprint(const std::filesystem::path& cert);

// sha256_hex is the same fingerprint as step and keystep print it: lower
// case hex without colons.
[[nodiscard]] std::string sha256_hex(const std::filesystem::path& cert);

// public_key_pem is the SubjectPublicKeyInfo PEM of a certificate
// (`openssl x509 -pubkey`) or of a private key file (`openssl pkey -pubout`).
[[nodiscard]] std::string certificate_public_key(const std::filesystem::path& cert);
[[nodiscard]] std::string private_key_public_key(const std::filesystem::path& key);

// verify_chain is `openssl verify -CAfile root [-untrusted chain] leaf`.
[[nodiscard]] RunResult verify_chain(const std::filesystem::path& root, const std::filesystem::path& untrusted,
                                     const std::filesystem::path& leaf);

// split_pem_chain writes the certificates of a PEM bundle to dir/name-0.crt,
// -1.crt ... and returns how many there were.
std::size_t split_pem_chain(const std::filesystem::path& bundle, const std::filesystem::path& dir,
                            const std::string& name);

}  // namespace keystep::integration
