#pragma once
// SecretBytes holds key material or a password. It wipes its buffer with
// OPENSSL_cleanse when destroyed or reassigned, and formats as "[redacted]"
// so it cannot reach a log line by accident. Move-only.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

namespace keystep::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view s) : bytes_(s.begin(), s.end()) {}
  explicit SecretBytes(std::vector<std::uint8_t> b) : bytes_(std::move(b)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  ~SecretBytes() { wipe(); }

  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }
  [[nodiscard]] std::uint8_t* data() { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] bool empty() const { return bytes_.empty(); }
  [[nodiscard]] std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  // resize wipes the bytes it drops before shrinking.
  void resize(std::size_t n) {
    if (n < bytes_.size()) OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
    bytes_.resize(n);
  }

  friend std::ostream& operator<<(std::ostream& os, const SecretBytes&) { return os << "[redacted]"; }

 private:
  void wipe() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
  }
  std::vector<std::uint8_t> bytes_;
};

}  // namespace keystep::crypto
