#pragma once
// Test-only (header-only, so it stays out of the library): run_command
// parses argv as `keystep <command>` would and runs the command, capturing
// what it prints on stderr, so tests check exit statuses and messages.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace keystep::cli::testing {

struct Outcome {
  int status;
  std::string err;

  [[nodiscard]] bool mentions(const std::string& text) const { return err.find(text) != std::string::npos; }
};

inline Outcome run_command(const Command& command, const std::vector<std::string>& argv) {
  std::ostringstream captured;
  auto* old = std::cerr.rdbuf(captured.rdbuf());
  int status = kExitUsage;
  auto args = Args::parse(command.spec, argv);
  if (!args) {
    std::cerr << args.error().message << "\n";
  } else {
    status = command.run(*args);
  }
  std::cerr.rdbuf(old);
  return {status, captured.str()};
}

// with returns base followed by more.
inline std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

}  // namespace keystep::cli::testing
