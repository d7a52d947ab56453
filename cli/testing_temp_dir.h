#pragma once
// Test-only (header-only, so it stays out of the library): TempDir is a
// fresh directory under the system temp dir, removed with its contents when
// the test ends.

#include <filesystem>
#include <random>
#include <string>

namespace keystep::cli::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("keystep-cli-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir fails no test
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace keystep::cli::testing
