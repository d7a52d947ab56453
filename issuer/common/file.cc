#include "issuer/common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace keystep::common {

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(errno == ENOENT ? Errc::not_found : Errc::invalid_argument,
                "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::string content;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    content.append(buf, static_cast<std::size_t>(in.gcount()));
    if (content.size() > max_bytes) {
      return fail(Errc::invalid_argument, path.string() + " is larger than " +
                                              std::to_string(max_bytes / 1024) + " KiB");
    }
  }
  return content;
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         std::filesystem::perms mode) {
  std::random_device rd;
  auto tmp = path;
  tmp += ".tmp" + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) {
    return fail(Errc::invalid_argument, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  }
  // The umask may have narrowed the mode; keys must be exactly what we asked.
  ::fchmod(fd, static_cast<mode_t>(mode));
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(Errc::internal, "cannot write " + tmp.string() + ": " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return fail(Errc::internal, "cannot write " + tmp.string() + ": " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return fail(Errc::internal, "cannot rename " + tmp.string() + " to " + path.string() + ": " + why);
  }
  return ok();
}

}  // namespace keystep::common
