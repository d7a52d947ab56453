// keystep ca provisioners: list the CA's provisioners, as `step ca
// provisioner list`.

#include <algorithm>
#include <cctype>
#include <iostream>

#include "cli/ca_client.h"
#include "cli/commands.h"

namespace keystep::cli {
namespace {

// A CA serves at most 100 provisioners a page; this bounds a CA that never
// stops handing out cursors.
constexpr int kMaxPages = 1000;

CommandSpec ca_provisioners_spec() {
  return {
      .path = "ca provisioners",
      .summary = "List the CA's provisioners",
      .description =
          "Pages through the CA's /provisioners endpoint over TLS verified with --root and prints\n"
          "every provisioner as one JSON array.\n"
          "\n"
          "Example:\n"
          "  keystep ca provisioners --ca-url https://ca.internal:9000 --root root_ca.crt",
      .flags = {ca_url_flag(), root_flag()},
  };
}

// A cursor goes back into a query string; the CA's are hex.
bool is_plain_cursor(const std::string& cursor) {
  return std::all_of(cursor.begin(), cursor.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

Result<nlohmann::json> list_provisioners(const CaClient& client) {
  auto all = nlohmann::json::array();
  std::string cursor;
  for (int page = 0; page < kMaxPages; ++page) {
    auto response = client.get_json("/provisioners?cursor=" + cursor + "&limit=100");
    if (!response) return tl::unexpected(response.error());
    auto items = response->is_object() ? response->find("provisioners") : response->end();
    if (items == response->end() || !items->is_array()) {
      return fail(Errc::invalid_argument, "the CA's /provisioners answer has no \"provisioners\" list");
    }
    all.insert(all.end(), items->begin(), items->end());
    std::string next = json_string(*response, "nextCursor");
    if (next.empty()) return all;
    if (next == cursor || !is_plain_cursor(next)) {
      return fail(Errc::invalid_argument, "the CA's /provisioners answer has a bad nextCursor");
    }
    cursor = std::move(next);
  }
  return fail(Errc::invalid_argument, "the CA's /provisioners list does not end");
}

int run_ca_provisioners(const Args& args) {
  auto flags = read_ca_flags(args);
  if (!flags) return usage_error(ca_provisioners_spec(), flags.error().message);
  auto client = CaClient::verified(*flags);
  if (!client) return fail_with(client.error().message);
  auto provisioners = list_provisioners(*client);
  if (!provisioners) return fail_with(provisioners.error().message);
  std::cout << provisioners->dump(2) << "\n";
  return 0;
}

}  // namespace

Command ca_provisioners_command() { return {ca_provisioners_spec(), run_ca_provisioners}; }

}  // namespace keystep::cli
