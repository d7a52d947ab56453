#include "cli/output_file.h"

#include <system_error>

namespace keystep::cli {

FlagSpec force_flag() { return {.name = "force", .help = "overwrite files that already exist", .takes_value = false}; }

Status refuse_overwrite(const std::filesystem::path& path, bool force) {
  std::error_code ec;
  if (!force && std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    return fail(Errc::already_exists, path.string() + " already exists: give --force to overwrite it");
  }
  return ok();
}

}  // namespace keystep::cli
