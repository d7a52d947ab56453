// The README's commands are the CLI's: every `keystep ...` command in its
// code blocks (shell, and the systemd unit's ExecStart) names a command the
// binary has, with flags that command takes, so a user who copies a line
// never meets "unknown command" or "unknown flag".

#include <cctype>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/harness.h"
#include "tests/support/kube_apiserver.h"

namespace keystep::integration {
namespace {

// Tokens after which a new simple command starts.
bool starts_command(const std::string& previous) {
  return previous.empty() || previous == "|" || previous == "&&" || previous == "||" || previous == ";" ||
         previous == "$" || previous == "sudo" || previous == "exec" || previous == "time" ||
         previous.ends_with("$(") || (previous.find('=') != std::string::npos && previous.front() != '-');
}

bool ends_command(const std::string& token) {
  return token == "|" || token == "&&" || token == "||" || token == ";" || token.front() == '>' ||
         token.front() == '<' || token.starts_with("2>") || token == "#" || token.front() == ')';
}

bool is_keystep(const std::string& token) {
  std::string t = token;
  if (t.starts_with("ExecStart=")) t = t.substr(10);
  if (t.starts_with("$(")) t = t.substr(2);
  return t == "keystep" || t.ends_with("/keystep");
}

struct Invocation {
  std::string line;
  std::vector<std::string> words;  // the command path and its positional arguments
  std::vector<std::string> flags;  // --name, without values
};

// invocations finds the keystep commands in the README's fenced blocks
// (except YAML), joining lines continued with a backslash.
std::vector<Invocation> invocations(const std::string& readme) {
  std::vector<Invocation> out;
  std::istringstream in(readme);
  bool in_block = false;
  bool yaml = false;
  std::string logical;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("```")) {
      in_block = !in_block;
      yaml = in_block && line.substr(3).starts_with("yaml");
      continue;
    }
    if (!in_block || yaml) continue;
    if (!line.empty() && line.back() == '\\') {
      logical += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    logical += line;
    std::istringstream words(logical);
    std::vector<std::string> tokens;
    for (std::string t; words >> t;) tokens.push_back(t);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string previous = i == 0 ? "" : tokens[i - 1];
      if (!is_keystep(tokens[i]) || !(starts_command(previous) || tokens[i].starts_with("ExecStart=") ||
                                      tokens[i].starts_with("$("))) {
        continue;
      }
      Invocation inv{logical, {}, {}};
      bool positional = true;
      for (std::size_t j = i + 1; j < tokens.size() && !ends_command(tokens[j]); ++j) {
        if (tokens[j].starts_with("--")) {
          positional = false;
          inv.flags.push_back(tokens[j].substr(0, tokens[j].find('=')));
        } else if (tokens[j].starts_with("-")) {
          positional = false;
        } else if (positional) {
          inv.words.push_back(tokens[j]);
        }
      }
      out.push_back(inv);
    }
    logical.clear();
  }
  return out;
}

TEST_CASE("every keystep command in the README exists and takes the flags the README gives it", "[docs]") {
  const std::string readme = read_text(keystep::testing::KubeApiServer::source_dir() / "README.md");
  const auto found = invocations(readme);
  std::set<std::string> commands;
  for (const auto& inv : found) {
    INFO("README: " << inv.line);
    std::vector<std::string> args = inv.words;
    args.push_back("--help");
    auto help = keystep(args);
    INFO(help.describe());
    REQUIRE(help.exit_code == 0);
    REQUIRE_THAT(help.out, Catch::Matchers::StartsWith("Usage: keystep "));
    // "Usage: keystep ca renew CRT KEY [flags]": the command is the lowercase words.
    std::istringstream usage(help.out.substr(15, help.out.find('\n') - 15));
    std::string command;
    for (std::string w; usage >> w && std::islower(static_cast<unsigned char>(w.front()));) {
      command += (command.empty() ? "" : " ") + w;
    }
    commands.insert(command);
    for (const auto& flag : inv.flags) {
      if (flag == "--help") continue;
      INFO("flag " << flag);
      CHECK(std::regex_search(help.out, std::regex("(^|\\s)" + flag + "(\\s|=|,|$)")));
    }
  }
  // The walkthrough's ceremony, server, client, revocation and renew daemon, at least.
  for (const char* expected : {"init", "serve", "ca certificate", "ca renew", "ca revoke"}) {
    INFO("the README shows no `keystep " << expected << "` line");
    CHECK(commands.count(expected) == 1);
  }
}

}  // namespace
}  // namespace keystep::integration
