#pragma once
// AcmeReplicas: two `keystep serve` replicas of one PKI on one real
// PostgreSQL, serving one ACME provisioner ("acme", http-01 only, short
// validation timeouts). Shared by the ACME replica tests: our own client
// (acme_replicas_test.cc) and golang.org/x/crypto/acme (acme_xcrypto_test.cc).
//
// Keystep builds its URLs from the Host a client used; behind a load
// balancer both replicas see the same Host. Here they listen on two ports,
// so a client either rewrites URLs to the other replica's origin
// (AcmeClient::use_origin) or dials the other port for the same Host.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/integration/acme_client.h"
#include "tests/integration/ca_fixture.h"
#include "tests/support/postgres.h"

namespace keystep::integration {

struct AcmeReplicas {
  // http01_port is where the provisioner's http-01 validator connects;
  // 0: responder's port.
  explicit AcmeReplicas(testing::PostgresServer& postgres, unsigned short http01_port = 0)
      : postgres(postgres), database(postgres.create_database()), pki(init_pki(tmp, "ca", {.password = false})) {
    const unsigned short port = http01_port != 0 ? http01_port : responder.port();
    edit_yaml(pki.config(), [&](YAML::Node& config) {
      config["storage"] = YAML::Load("{kind: postgres, dsn: \"" + postgres.dsn(database) +
                                     "\", passwordFile: " + postgres.password_file().string() + "}");
      config["provisioners"].push_back(YAML::Load("{name: acme, type: ACME, challenges: [http-01], validation: "
                                                  "{http01Port: " + std::to_string(port) +
                                                  ", attempts: 2, backoff: 200ms, timeout: 5s}}"));
    });
    for (const char* name : {"a", "b"}) {
      auto options = serve_options(pki);
      options.log_file = tmp / (std::string("replica-") + name + ".log");
      servers.push_back(std::make_unique<ServerProcess>(options));
    }
  }

  [[nodiscard]] std::string a() const { return servers[0]->url(); }
  [[nodiscard]] std::string b() const { return servers[1]->url(); }
  [[nodiscard]] std::string directory_url() const { return a() + "/acme/acme/directory"; }
  [[nodiscard]] AcmeClient client() const {
    AcmeClient c(directory_url(), read_text(pki.root_cert()));
    c.use_origin(a());
    return c;
  }
  // count is how often needle occurs in both replicas' logs together.
  [[nodiscard]] std::size_t count(const std::string& needle) const {
    return servers[0]->count(needle) + servers[1]->count(needle);
  }
  [[nodiscard]] std::size_t issued() const { return count("acme order valid"); }
  // ledger_count is how many certificates the ledger holds for an order.
  [[nodiscard]] std::string ledger_count(const std::string& order_url) const {
    const std::string id = order_url.substr(order_url.rfind('/') + 1);
    auto rows = postgres.admin_query(
        database, "SELECT count(*) FROM certificates WHERE source = 'acme' AND request_id = '" + id + "'");
    return rows.at(0).at(0);
  }

  testing::PostgresServer& postgres;
  std::string database;
  Http01Responder responder;
  TempDir tmp;
  Pki pki;
  std::vector<std::unique_ptr<ServerProcess>> servers;
};

}  // namespace keystep::integration
