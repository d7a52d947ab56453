#pragma once
// logger(name) returns the named spdlog logger of one folder ("api",
// "signing", ...), creating it on first use. Lines are a fixed lowercase
// phrase followed by key=value fields; never log keys, passwords or tokens.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace keystep::common {

[[nodiscard]] std::shared_ptr<spdlog::logger> logger(const std::string& name);

// set_log_level applies "debug", "info", "warn" or "error" to every logger.
void set_log_level(const std::string& level);

}  // namespace keystep::common
