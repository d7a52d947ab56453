#pragma once
// ChallengeWebServer serves files under a web root over plain HTTP on
// 127.0.0.1:<port>, for ACME clients that only write http-01 key
// authorizations into a directory (dehydrated's WELLKNOWN, uacme's hook)
// and expect a web server to publish them. GET /a/b answers root/a/b (200)
// or 404; every connection is closed after one answer. It serves from its
// own thread until the destructor; requests() is thread-safe.
//
// The constructor throws HarnessError when it cannot bind the port.

#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keystep::integration {

class ChallengeWebServer {
 public:
  ChallengeWebServer(std::filesystem::path root, unsigned short port);
  ~ChallengeWebServer();
  ChallengeWebServer(const ChallengeWebServer&) = delete;
  ChallengeWebServer& operator=(const ChallengeWebServer&) = delete;

  // requests lists "GET /path -> 200" for every request served so far.
  [[nodiscard]] std::vector<std::string> requests() const;

 private:
  void serve();
  void answer(int fd);

  std::filesystem::path root_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace keystep::integration
