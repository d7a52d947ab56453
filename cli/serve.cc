// keystep serve: the standalone CA server. Loads keystep.yaml, the
// intermediate and its key, mints its own TLS certificate from the
// intermediate (renewed at two thirds of its life), serves the step-ca API
// over HTTPS, and stops cleanly on SIGINT or SIGTERM.

#include <csignal>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "issuer/acme/service.h"
#include "issuer/acme/validator.h"
#include "issuer/api/routes.h"
#include "issuer/authority/authority.h"
#include "issuer/authority/crl_service.h"
#include "issuer/authority/directory.h"
#include "issuer/common/duration.h"
#include "issuer/common/file.h"
#include "issuer/common/log.h"
#include "issuer/config/config.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/password.h"
#include "issuer/http/server.h"
#include "issuer/policy/time_format.h"
#include "issuer/storage/open_store.h"
#include "operator/controllers/manager.h"
#include "operator/kube/kube_config.h"
#include "operator/kube/token_reviewer.h"

namespace keystep::cli {
namespace {

CommandSpec spec() {
  CommandSpec s;
  s.path = "serve";
  s.summary = "run the CA server (step-ca compatible HTTPS API)";
  s.description =
      "Serves /health, /version, /roots, /roots.pem, /root/{sha256}, /intermediates, /provisioners, /sign\n"
      "(under / and /1.0/) and Prometheus metrics at /metrics, with a TLS certificate issued by the intermediate for the config's dnsNames.\n"
      "Stops cleanly on SIGINT or SIGTERM.\n\n"
      "With --kubernetes it is also the Kubernetes operator and cert-manager external issuer: it watches\n"
      "StepClusterIssuers, StepIssuers (keystep.dev/v1alpha1) and CertificateRequests whose issuerRef.group is\n"
      "keystep.dev, and signs them with the intermediate of the issuer's Secret. Replicas elect a leader with a\n"
      "Lease; only the leader reconciles, every replica serves the HTTP API. The API server is found from\n"
      "--kubeconfig, $KUBECONFIG, the in-cluster service account, or ~/.kube/config, in that order.\n\n"
      "Examples:\n"
      "  keystep serve --config ./ca/config/keystep.yaml --password-file pw.txt\n"
      "  keystep serve --config /etc/keystep/keystep.yaml --kubernetes --lease-namespace keystep";
  s.flags = {
      {"config", "path of keystep.yaml"},
      {"password-file", "file with the password of the intermediate key (overrides ca.passwordFile)"},
      {"address", "listen address host:port, overriding the config (port 0 picks a free port)"},
      {"kubernetes", "also run the Kubernetes operator and cert-manager issuer", false},
      {"kubeconfig", "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
      {"kube-context", "kubeconfig context (default: current-context)"},
      {"lease-namespace", "namespace of the leader-election Lease (default: the kubeconfig's or pod's namespace)"},
      {"lease-name", "name of the leader-election Lease", true, false, "keystep-controllers"},
      {"leader-election", "elect a leader among replicas; --leader-election=false acts as leader at once", false,
       false, "true"},
      {"lease-duration", "how long a leader holds the Lease without renewing it", true, false, "15s"},
  };
  return s;
}

// Expired one-time token ids are deleted this often.
constexpr std::chrono::seconds kCollectEvery{60};
// Expired ACME orders and authorizations are kept this long (clients may
// still read a finished order), then deleted; the ledger keeps certificates.
constexpr std::chrono::hours kAcmeRetention{24 * 7};

std::shared_ptr<spdlog::logger> log() {
  static auto logger = common::logger("server");
  return logger;
}

Result<std::shared_ptr<const signing::CertificateAuthority>> load_ca(const config::Config& config,
                                                                    const crypto::SecretBytes* password) {
  auto root = common::read_file(config.ca.root);
  if (!root) return tl::unexpected(with_context(root.error(), "ca.root"));
  auto crt = common::read_file(config.ca.crt);
  if (!crt) return tl::unexpected(with_context(crt.error(), "ca.crt"));
  auto key = common::read_file(config.ca.key);
  if (!key) return tl::unexpected(with_context(key.error(), "ca.key"));
  auto ca = signing::CertificateAuthority::load({*crt, *key, *root, password}, std::chrono::system_clock::now());
  OPENSSL_cleanse(key->data(), key->size());
  return ca;
}

struct ServerCertificate {
  http::TlsCredentials credentials;
  common::TimePoint renew_at;
};

// mint_server_certificate issues the server's TLS certificate; it is due for
// renewal two thirds of its lifetime after issuance.
Result<ServerCertificate> mint_server_certificate(const authority::Authority& authority, std::chrono::seconds lifetime) {
  auto key = crypto::generate_key({});
  if (!key) return tl::unexpected(key.error());
  auto issued = authority.issue_server_certificate(key->get(), lifetime);
  if (!issued) return tl::unexpected(issued.error());
  auto key_pem = crypto::private_key_to_pem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error());
  return ServerCertificate{{crypto::chain_to_pem(issued->chain), std::string(key_pem->view())},
                           std::chrono::system_clock::now() + lifetime * 2 / 3};
}

int run(const Args& args) {
  auto config_path = args.required("config");
  if (!config_path) return usage_error(spec(), config_path.error().message);
  auto config = config::load_config(*config_path);
  if (!config) return fail_with(config.error().message);
  common::set_log_level(config->log_level);
  if (args.has("address")) {
    if (auto hp = config::split_host_port(args.get("address")); !hp) return fail_with("flag --address: " + hp.error().message);
    config->address = args.get("address");
  }
  std::optional<crypto::SecretBytes> password;
  auto password_file = args.has("password-file") ? std::filesystem::path(args.get("password-file")) : config->ca.password_file;
  if (!password_file.empty()) {
    auto pw = crypto::read_password_file(password_file);
    if (!pw) return fail_with(pw.error().message);
    password = std::move(*pw);
  }
  auto ca = load_ca(*config, password ? &*password : nullptr);
  password.reset();  // wiped: the key is decrypted
  if (!ca) return fail_with(ca.error().message);

  // Block the stop signals before any thread starts (storage pools, the Kubernetes client), so only sigtimedwait
  // below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  common::SystemClock clock;
  auto store = storage::open_store(config->storage, clock);
  if (!store) return fail_with("storage: " + store.error().message);
  log()->info("storage ready backend=\"{}\"", (*store)->describe());
  metrics::Metrics metrics(clock);
  metrics.set_intermediate_not_after((*ca)->intermediate().not_after());
  std::unique_ptr<kube::Client> kube_client;
  controllers::ManagerOptions manager_options;
  std::unique_ptr<kube::KubeTokenReviewer> token_reviewer;
  std::unique_ptr<provisioners::JwksVerifier> jwks_verifier;
  if (args.get_bool("kubernetes", false)) {
    auto kube_config = kube::resolve_config(args.get("kubeconfig"), args.get("kube-context"));
    if (!kube_config) return fail_with("kubernetes: " + kube_config.error().message);
    std::string lease_namespace = args.get("lease-namespace", kube_config->namespace_);
    auto client = kube::Client::create(std::move(*kube_config));
    if (!client) return fail_with("kubernetes: " + client.error().message);
    kube_client = std::move(*client);
    manager_options.dns_names = config->authority.dns_names;
    manager_options.leader_election = args.get_bool("leader-election", true);
    manager_options.lease.ns = lease_namespace.empty() ? "default" : lease_namespace;
    manager_options.lease.name = args.get("lease-name", "keystep-controllers");
    manager_options.lease.identity = leader::LeaseElector::default_identity();
    if (args.has("lease-duration")) {
      auto d = common::parse_duration(args.get("lease-duration"));
      if (!d || *d < std::chrono::seconds(2)) return usage_error(spec(), "flag --lease-duration: must be a duration of at least 2s");
      manager_options.lease.lease_duration = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
      manager_options.lease.renew_deadline = manager_options.lease.lease_duration * 2 / 3;
      manager_options.lease.retry_period = std::max(std::chrono::milliseconds(200), manager_options.lease.lease_duration / 7);
    }
    token_reviewer = std::make_unique<kube::KubeTokenReviewer>(*kube_client);
    config->authority.token_reviewer = token_reviewer.get();
    jwks_verifier = std::make_unique<provisioners::JwksVerifier>(
        [client = kube_client.get()] { return kube::fetch_service_account_keys(*client); }, clock);
    config->authority.jwks_verifier = jwks_verifier.get();
  }
  auto authority = authority::Authority::create(config->authority, *ca, clock, **store, &metrics);
  if (!authority) return fail_with(authority.error().message);

  auto cert = mint_server_certificate(**authority, config->tls_lifetime);
  if (!cert) return fail_with("cannot issue the server certificate: " + cert.error().message);

  std::optional<authority::CrlService> crl;
  if (config->crl.enabled) {
    crl.emplace(**authority, authority::CrlOptions{config->crl.cache_duration, config->crl.renew_period,
                                                   config->crl.idp_url},
                &metrics);
  }
  // The Authorities the API answers for: keystep.yaml's, and in cluster mode
  // those of StepClusterIssuers with provisioners (published by the operator).
  authority::Directory directory(**authority);
  // ACME for the ACME provisioners of every Authority; state in the Store.
  const acme::NetworkValidator acme_validator;
  acme::ServiceOptions acme_options;
  acme_options.crl = crl ? &*crl : nullptr;
  acme::Service acme_service(directory, **store, clock, acme_validator, acme_options);
  const api::ApiContext context{**authority, &metrics, crl ? &*crl : nullptr, config->ocsp_validity, &directory,
                                &acme_service};

  auto host_port = config::split_host_port(config->address);
  http::ServerOptions options;
  options.host = host_port->first;
  options.port = host_port->second;
  options.tls = cert->credentials;
  // mTLS renew and revoke: clients may present a certificate this CA issued.
  options.client_ca_pem = crypto::chain_to_pem((*ca)->roots()) + crypto::chain_to_pem((*ca)->chain());
  http::Server server(options, api::make_router(context));
  if (auto s = server.start(); !s) return fail_with(s.error().message);
  std::optional<http::Server> plain;
  if (!config->insecure_address.empty()) {
    auto plain_host_port = config::split_host_port(config->insecure_address);
    http::ServerOptions plain_options;
    plain_options.host = plain_host_port->first;
    plain_options.port = plain_host_port->second;
    plain.emplace(plain_options, api::make_plain_router(context));
    if (auto s = plain->start(); !s) return fail_with("insecureAddress: " + s.error().message);
    log()->info("plain http listening address={}:{} routes=\"health roots.pem root crl ocsp\"", plain_options.host,
                plain->port());
  }
  std::unique_ptr<controllers::Manager> manager;
  if (kube_client) {
    // mTLS renew and revoke for certificates of cluster issuers too.
    directory.on_change([&server, &directory, last = std::string()]() mutable {
      auto pem = directory.client_ca_pem();
      if (pem == last) return;
      if (auto s = server.set_client_ca(pem); !s) {
        log()->error("client CAs not updated error=\"{}\"", s.error().message);
        return;
      }
      last = std::move(pem);
    });
    manager_options.directory = &directory;
    manager_options.token_reviewer = token_reviewer.get();
    manager_options.jwks_verifier = jwks_verifier.get();
    for (const auto& p : (*authority)->provisioners()) manager_options.reserved_names.push_back(p.name());
    for (const auto& p : (*authority)->k8ssa_provisioners()) {
      manager_options.reserved_names.push_back(p.name());
      for (const auto& a : p.audiences()) manager_options.reserved_audiences.push_back(a);
    }
    for (const auto& p : (*authority)->acme_provisioners()) manager_options.reserved_names.push_back(p.name);
    manager = std::make_unique<controllers::Manager>(*kube_client, **store, clock, &metrics, manager_options);
    if (auto s = manager->start(); !s) return fail_with("kubernetes: " + s.error().message);
  }

  const auto& intermediate = (*ca)->intermediate();
  log()->info("server listening address={}:{} intermediate=\"{}\" intermediate_not_after={} provisioners={}",
              options.host, server.port(), intermediate.subject(), policy::format_rfc3339(intermediate.not_after()),
              (*authority)->provisioners().size());

  auto renew_at = cert->renew_at;
  auto collect_at = std::chrono::system_clock::now() + kCollectEvery;
  for (;;) {
    const auto due = std::min(renew_at, collect_at);
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(due - std::chrono::system_clock::now());
    timespec timeout{std::max<long>(1, static_cast<long>(wait.count())), 0};
    int sig = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      log()->info("server stopping signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    const auto now = std::chrono::system_clock::now();
    if (now >= collect_at) {
      collect_at = now + kCollectEvery;
      if (auto n = (*store)->collect_used_tokens(now); !n) {
        metrics.database_error("collect_used_tokens");
        log()->warn("used token collection failed error=\"{}\"", n.error().message);
      } else if (*n > 0) {
        log()->debug("used tokens collected count={}", *n);
      }
      if (auto n = (*store)->collect_acme_objects(now - kAcmeRetention); !n) {
        metrics.database_error("collect_acme_objects");
        log()->warn("acme order collection failed error=\"{}\"", n.error().message);
      } else if (*n > 0) {
        log()->info("expired acme orders collected objects={}", *n);
      }
    }
    if (now < renew_at) continue;
    auto renewed = mint_server_certificate(**authority, config->tls_lifetime);
    if (!renewed) {
      log()->error("server certificate renewal failed error=\"{}\"", renewed.error().message);
      renew_at = now + std::chrono::minutes(1);
      continue;
    }
    if (auto s = server.set_tls_credentials(renewed->credentials); !s) {
      log()->error("server certificate renewal failed error=\"{}\"", s.error().message);
      renew_at = now + std::chrono::minutes(1);
      continue;
    }
    renew_at = renewed->renew_at;
    log()->info("server certificate renewed next_renewal={}", policy::format_rfc3339(renew_at));
    log()->flush();
  }
  if (manager) manager->stop();
  if (plain) plain->stop();
  server.stop();
  acme_service.stop();
  log()->info("server stopped");
  return 0;
}

}  // namespace

Command serve_command() { return {spec(), run}; }

}  // namespace keystep::cli
