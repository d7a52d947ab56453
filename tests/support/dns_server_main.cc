// keystep_test_dns runs a testing::DnsServer for shell-driven tests (lego's
// `exec` DNS provider writes record files into --dir):
//
//   keystep_test_dns [--host 127.0.0.1] [--port 0] [--dir DIR]
//                    [--txt NAME=VALUE]... [--a NAME=IP]...
//
// It prints "listening on HOST:PORT" once it serves, then runs until
// SIGINT or SIGTERM, or until its parent process exits (PR_SET_PDEATHSIG),
// so a test cannot leave it behind. Exit status 2 is a usage error, 1 a
// failure to bind.

#include <signal.h>
#include <sys/prctl.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/dns_server.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "keystep_test_dns: " << problem << "\n"
            << "usage: keystep_test_dns [--host IP] [--port N] [--dir DIR] [--txt NAME=VALUE]... "
               "[--a NAME=IP]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  keystep::testing::DnsServerOptions options;
  std::vector<std::pair<std::string, std::string>> txt, addresses;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage("a loopback DNS server for tests");
      return 0;
    }
    if (flag != "--host" && flag != "--port" && flag != "--dir" && flag != "--txt" && flag != "--a")
      return usage("unknown flag " + flag);
    if (i + 1 >= argc) return usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      char* end = nullptr;
      const long port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || port < 0 || port > 65535)
        return usage("bad --port " + value);
      options.port = static_cast<unsigned short>(port);
    } else if (flag == "--dir") {
      options.dir = value;
    } else {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return usage(flag + " wants NAME=VALUE");
      (flag == "--txt" ? txt : addresses).emplace_back(value.substr(0, eq), value.substr(eq + 1));
    }
  }

  // Block the signals before the server's threads start (they inherit the
  // mask), then wait for one here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  try {
    keystep::testing::DnsServer server(options);
    std::map<std::string, std::vector<std::string>> txt_by_name;  // repeated --txt NAME adds values
    for (const auto& [name, value] : txt) txt_by_name[name].push_back(value);
    for (const auto& [name, values] : txt_by_name) server.set_txt(name, values);
    for (const auto& [name, ip] : addresses) server.set_a(name, ip);
    std::cout << "listening on " << server.address() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
  } catch (const std::exception& e) {
    std::cerr << "keystep_test_dns: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
