// keystep ca health: ask the CA whether it is up, as `step ca health`.

#include <iostream>

#include "cli/ca_client.h"
#include "cli/commands.h"

namespace keystep::cli {
namespace {

CommandSpec ca_health_spec() {
  return {
      .path = "ca health",
      .summary = "Check that the CA is up",
      .description =
          "Calls the CA's /health endpoint over TLS verified with --root and prints the status it\n"
          "reports (\"ok\"). Exits 1 when the CA cannot be reached, cannot be verified or is not ok.\n"
          "\n"
          "Example:\n"
          "  keystep ca health --ca-url https://ca.internal:9000 --root root_ca.crt",
      .flags = {ca_url_flag(), root_flag()},
  };
}

int run_ca_health(const Args& args) {
  auto flags = read_ca_flags(args);
  if (!flags) return usage_error(ca_health_spec(), flags.error().message);
  auto client = CaClient::verified(*flags);
  if (!client) return fail_with(client.error().message);
  auto health = client->get_json("/health");
  if (!health) return fail_with(health.error().message);
  if (json_string(*health, "status") != "ok") return fail_with("the CA's /health does not report \"ok\"");
  std::cout << "ok\n";
  return 0;
}

}  // namespace

Command ca_health_command() { return {ca_health_spec(), run_ca_health}; }

}  // namespace keystep::cli
