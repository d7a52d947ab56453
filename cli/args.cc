#include "cli/args.h"

#include <algorithm>
#include <stdexcept>

namespace keystep::cli {

Result<Args> Args::parse(const CommandSpec& spec, const std::vector<std::string>& argv) {
  Args args;
  auto find = [&](const std::string& name) -> const FlagSpec* {
    for (const auto& f : spec.flags) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  bool only_positional = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      args.help_ = true;
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* flag = find(name);
    if (flag == nullptr) {
      return fail(Errc::invalid_argument, "unknown flag --" + name + " (see keystep " + spec.path + " --help)");
    }
    if (flag->takes_value) {
      if (!value) {
        if (i + 1 >= argv.size()) return fail(Errc::invalid_argument, "flag --" + name + " needs a value");
        value = argv[++i];
      }
    } else if (value) {
      if (*value != "true" && *value != "false") {
        return fail(Errc::invalid_argument, "flag --" + name + " takes no value");
      }
      if (*value == "false") {
        args.set_false_.insert(name);
        continue;
      }
    } else {
      value = "true";
    }
    auto& slot = args.values_[name];
    if (!slot.empty() && !flag->repeatable) {
      return fail(Errc::invalid_argument, "flag --" + name + " is given more than once");
    }
    slot.push_back(*value);
  }
  if (args.help_) return args;
  if (args.positional_.size() < spec.min_positional) {
    return fail(Errc::invalid_argument, "missing arguments: usage: keystep " + spec.path + " " + spec.usage);
  }
  if (args.positional_.size() > spec.max_positional) {
    return fail(Errc::invalid_argument, "unexpected argument \"" + args.positional_[spec.max_positional] +
                                            "\": usage: keystep " + spec.path + " " + spec.usage);
  }
  return args;
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return {};
  // Repeated flags may also carry comma-separated lists: --san a,b --san c.
  std::vector<std::string> out;
  for (const auto& v : it->second) {
    std::size_t start = 0;
    while (start <= v.size()) {
      auto comma = v.find(',', start);
      std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

Result<std::string> Args::required(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end() || it->second.back().empty()) {
    return fail(Errc::invalid_argument, "flag --" + flag + " is required");
  }
  return it->second.back();
}

Result<int> Args::get_int(const std::string& flag, int fallback) const {
  if (!has(flag)) return fallback;
  std::string v = get(flag);
  try {
    std::size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (...) {
    return fail(Errc::invalid_argument, "flag --" + flag + ": \"" + v + "\" is not a number");
  }
}

bool Args::get_bool(const std::string& flag, bool fallback) const {
  if (has(flag)) return true;
  return set_false_.count(flag) != 0 ? false : fallback;
}

std::string help_text(const CommandSpec& spec) {
  std::string out = "Usage: keystep " + spec.path + (spec.usage.empty() ? "" : " " + spec.usage) +
                    (spec.flags.empty() ? "" : " [flags]") + "\n\n" + spec.summary + "\n";
  if (!spec.description.empty()) out += "\n" + spec.description + "\n";
  // Every flag's help starts in one column, four spaces past the longest "--flag VALUE" (--help included).
  std::size_t width = std::string("help").size();
  for (const auto& f : spec.flags) width = std::max(width, f.name.size() + (f.takes_value ? 8 : 0));
  out += "\nFlags:\n";
  for (const auto& f : spec.flags) {
    std::string left = "--" + f.name + (f.takes_value ? " VALUE" : "");
    out += "  " + left + std::string(width + 6 - left.size(), ' ') + f.help;
    if (!f.default_value.empty()) out += " (default " + f.default_value + ")";
    out += "\n";
  }
  out += "  --help" + std::string(width, ' ') + "show this help\n";
  return out;
}

}  // namespace keystep::cli
