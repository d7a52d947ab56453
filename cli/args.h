#pragma once
// Args is the flag parser of every keystep command. A command declares its
// flags (with help text) and positional arguments; parse() accepts
// "--flag value", "--flag=value", boolean "--flag", repeated flags, and
// "--help". Usage errors name the flag: "flag --ca-url needs a value".

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "issuer/common/error.h"

namespace keystep::cli {

struct FlagSpec {
  std::string name;  // without dashes
  std::string help;
  bool takes_value = true;
  bool repeatable = false;
  std::string default_value;  // shown in help
};

struct CommandSpec {
  std::string path;        // "ca certificate"
  std::string usage;       // "SUBJECT CRT KEY"
  std::string summary;     // one line
  std::string description; // paragraphs shown by --help
  std::vector<FlagSpec> flags;
  std::size_t min_positional = 0;
  std::size_t max_positional = 0;
};

class Args {
 public:
  // parse returns the parsed arguments; help_requested() when --help/-h.
  [[nodiscard]] static Result<Args> parse(const CommandSpec& spec, const std::vector<std::string>& argv);

  [[nodiscard]] bool help_requested() const { return help_; }
  [[nodiscard]] bool has(const std::string& flag) const { return values_.count(flag) != 0; }
  [[nodiscard]] std::string get(const std::string& flag, const std::string& fallback = "") const;
  [[nodiscard]] std::vector<std::string> all(const std::string& flag) const;
  [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }
  // required returns the flag's value or an error "flag --x is required".
  [[nodiscard]] Result<std::string> required(const std::string& flag) const;
  [[nodiscard]] Result<int> get_int(const std::string& flag, int fallback) const;
  // get_bool reads a boolean flag that defaults to `fallback`: true for
  // "--flag" or "--flag=true", false for "--flag=false" (which has() does
  // not count as given).
  [[nodiscard]] bool get_bool(const std::string& flag, bool fallback) const;

 private:
  bool help_ = false;
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> set_false_;  // boolean flags given as --flag=false
  std::vector<std::string> positional_;
};

// help_text renders --help for a command.
[[nodiscard]] std::string help_text(const CommandSpec& spec);

}  // namespace keystep::cli
