#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "issuer/api/routes.h"

namespace keystep::cli {

int fail_with(const std::string& message) {
  std::cerr << "keystep: " << message << "\n";
  return kExitFailure;
}

int usage_error(const CommandSpec& spec, const std::string& message) {
  std::cerr << "keystep " << spec.path << ": " << message << "\n";
  return kExitUsage;
}

namespace {

std::vector<Command> all_commands() {
  std::vector<Command> commands;
  for (auto make : {init_command, serve_command, ca_sign_intermediate_command, ca_certificate_command,
                    ca_token_command, ca_health_command, ca_root_command, ca_provisioners_command, ca_renew_command,
                    ca_revoke_command, ca_crl_command,
                    certificate_fingerprint_command, certificate_inspect_command, crypto_jwk_create_command,
                    bench_sign_command, bench_certificaterequests_command}) {
    commands.push_back(make());
  }
  return commands;
}

void print_overview(const std::vector<Command>& commands, const std::string& prefix) {
  std::cout << "Usage: keystep " << (prefix.empty() ? "COMMAND" : prefix + " COMMAND") << " [flags]\n\n"
            << "Keystep is a certificate authority compatible with step-ca.\n\nCommands:\n";
  // The summaries start in one column, two spaces after the longest name.
  std::size_t width = 0;
  for (const auto& c : commands) width = std::max(width, c.spec.path.size() + 2);
  for (const auto& c : commands) {
    if (!prefix.empty() && c.spec.path.rfind(prefix + " ", 0) != 0) continue;
    const std::string& name = c.spec.path;
    std::cout << "  " << name << std::string(width - name.size(), ' ') << c.spec.summary << "\n";
  }
  std::cout << "\nRun 'keystep COMMAND --help' for the flags of a command.\n";
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  auto commands = all_commands();
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_overview(commands, "");
    return words.empty() ? kExitUsage : 0;
  }
  if (words[0] == "version" || words[0] == "--version") {
    std::cout << "keystep " << api::kVersion << "\n";
    return 0;
  }
  // Longest command path that prefixes the words wins: "ca certificate" over "ca".
  const Command* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& c : commands) {
    std::vector<std::string> path;
    std::size_t start = 0;
    while (start < c.spec.path.size()) {
      auto sp = c.spec.path.find(' ', start);
      path.push_back(c.spec.path.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
      if (sp == std::string::npos) break;
      start = sp + 1;
    }
    if (path.size() <= words.size() && std::equal(path.begin(), path.end(), words.begin()) && path.size() > best_len) {
      best = &c;
      best_len = path.size();
    }
  }
  if (best == nullptr) {
    // A known group without a sub-command: show the group's commands.
    for (const auto& c : commands) {
      if (c.spec.path.rfind(words[0] + " ", 0) == 0) {
        print_overview(commands, words[0]);
        return kExitUsage;
      }
    }
    std::cerr << "keystep: unknown command \"" << words[0] << "\" (see keystep --help)\n";
    return kExitUsage;
  }
  std::vector<std::string> rest(words.begin() + static_cast<long>(best_len), words.end());
  auto args = Args::parse(best->spec, rest);
  if (!args) return usage_error(best->spec, args.error().message);
  if (args->help_requested()) {
    std::cout << help_text(best->spec);
    return 0;
  }
  return best->run(*args);
}

}  // namespace keystep::cli
