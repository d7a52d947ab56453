// keystep bench sign: a load client for POST /1.0/sign. It prepares fresh
// one-time tokens and P-256 CSRs before the clock starts, then N clients
// each keep one TLS connection alive and sign as fast as the CA answers.
// It reports throughput, p50/p99 latency and — given the server's pid —
// the server's CPU per certificate and RSS, read from /proc.

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "cli/certificate_request.h"
#include "cli/commands.h"
#include "cli/provisioner_key.h"
#include "cli/token.h"
#include "issuer/common/file.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/password.h"
#include "issuer/http/tls_context.h"
#include "issuer/http/url.h"

namespace keystep::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

CommandSpec spec() {
  CommandSpec s;
  s.path = "bench sign";
  s.summary = "measure /1.0/sign throughput, latency and server CPU per certificate";
  s.description =
      "Prepares --requests fresh tokens (JWK provisioner, ES256) and P-256 CSRs, then runs --concurrency\n"
      "clients on keep-alive TLS connections. With --server-pid it also reads the server's CPU time and\n"
      "RSS from /proc. hack/bench-sign.sh runs it against a fresh CA.\n\n"
      "Example:\n"
      "  keystep bench sign --ca-url https://127.0.0.1:9000 --root root_ca.crt --provisioner admin \\\n"
      "    --provisioner-key admin.jwk --concurrency 8 --requests 4000 --server-pid 1234";
  s.flags = {
      {"ca-url", "URL of the CA"},
      {"root", "root certificate to verify the CA with"},
      {"provisioner", "JWK provisioner name", true, false, "admin"},
      {"provisioner-key", "the provisioner's private key (plain JWK or JWE)"},
      {"password-file", "password of the provisioner key"},
      {"concurrency", "number of concurrent clients", true, false, "8"},
      {"requests", "number of certificates to request", true, false, "2000"},
      {"server-pid", "pid of the CA process, to measure its CPU and memory"},
  };
  return s;
}

struct ProcStats {
  double cpu_seconds = 0;
  long rss_kib = 0;
};

ProcStats read_proc(const std::string& pid) {
  ProcStats stats;
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(content.substr(close + 2));
    std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
    // utime and stime are fields 14 and 15 of /proc/pid/stat; rest starts at field 3.
    if (fields.size() > 12) {
      stats.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) stats.rss_kib = std::stol(line.substr(6));
  }
  return stats;
}

// Worker keeps one keep-alive TLS connection and posts bodies from the
// shared queue until it is empty.
struct Shared {
  std::vector<std::string> bodies;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> failures{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::string first_error;
};

void worker(const http::Url& url, SSL_CTX* ctx, Shared& shared) {
  asio::io_context io;
  asio::ssl::context ssl_ctx(ctx);  // shares the prepared SSL_CTX
  SSL_CTX_up_ref(ctx);
  std::vector<double> latencies;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  auto connect = [&] {
    stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, ssl_ctx);
    asio::ip::tcp::resolver resolver(io);
    beast::get_lowest_layer(*stream).connect(resolver.resolve(url.host, std::to_string(url.port)));
    if (!url.is_ip) SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str());
    stream->handshake(asio::ssl::stream_base::client);
  };
  for (;;) {
    std::size_t i = shared.next.fetch_add(1);
    if (i >= shared.bodies.size()) break;
    bh::request<bh::string_body> req{bh::verb::post, "/1.0/sign", 11};
    req.set(bh::field::host, url.host);
    req.set(bh::field::content_type, "application/json");
    req.body() = shared.bodies[i];
    req.prepare_payload();
    auto start = SteadyClock::now();
    try {
      if (!stream) connect();
      bh::write(*stream, req);
      bh::response<bh::string_body> res;
      bh::read(*stream, buffer, res);
      if (res.result_int() != 201) {
        shared.failures++;
        std::lock_guard lock(shared.mu);
        if (shared.first_error.empty()) shared.first_error = std::to_string(res.result_int()) + " " + res.body();
      }
      if (!res.keep_alive()) stream.reset();
    } catch (const std::exception& e) {
      shared.failures++;
      stream.reset();
      std::lock_guard lock(shared.mu);
      if (shared.first_error.empty()) shared.first_error = e.what();
    }
    latencies.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
  }
  std::lock_guard lock(shared.mu);
  shared.latencies_ms.insert(shared.latencies_ms.end(), latencies.begin(), latencies.end());
}

int run(const Args& args) {
  auto ca_url = args.required("ca-url");
  if (!ca_url) return usage_error(spec(), ca_url.error().message);
  auto root_path = args.required("root");
  if (!root_path) return usage_error(spec(), root_path.error().message);
  auto key_path = args.required("provisioner-key");
  if (!key_path) return usage_error(spec(), key_path.error().message);
  auto concurrency = args.get_int("concurrency", 8);
  auto requests = args.get_int("requests", 2000);
  if (!concurrency || *concurrency < 1) return usage_error(spec(), "flag --concurrency must be at least 1");
  if (!requests || *requests < 1) return usage_error(spec(), "flag --requests must be at least 1");
  auto url = http::parse_url(*ca_url);
  if (!url || !url->is_https()) return usage_error(spec(), "flag --ca-url must be an https:// URL");
  auto root_pem = common::read_file(*root_path);
  if (!root_pem) return fail_with(root_pem.error().message);
  std::optional<crypto::SecretBytes> password;
  if (args.has("password-file")) {
    auto pw = crypto::read_password_file(args.get("password-file"));
    if (!pw) return fail_with(pw.error().message);
    password = std::move(*pw);
  }
  auto jwk = load_provisioner_key(*key_path, password ? &*password : nullptr);
  if (!jwk) return fail_with(jwk.error().message);

  // Prepare: a pool of CSRs (key generation is client work, not the CA's)
  // and one fresh token per request.
  Shared shared;
  constexpr int kCsrPool = 64;
  std::vector<std::string> csrs;
  for (int i = 0; i < kCsrPool; ++i) {
    auto key = crypto::generate_key({});
    auto csr = make_csr_pem(key->get(), "bench-" + std::to_string(i) + ".internal",
                            {"bench-" + std::to_string(i) + ".internal"});
    if (!csr) return fail_with(csr.error().message);
    csrs.push_back(*csr);
  }
  const std::string audience = "https://" + url->authority() + kSignAudiencePath;
  for (int i = 0; i < *requests; ++i) {
    const std::string name = "bench-" + std::to_string(i % kCsrPool) + ".internal";
    TokenClaims claims{name, {name}, audience, args.get("provisioner", "admin"), "", std::chrono::minutes(30)};
    auto token = sign_token(claims, *jwk, std::chrono::system_clock::now());
    if (!token) return fail_with(token.error().message);
    shared.bodies.push_back(nlohmann::json{{"csr", csrs[static_cast<std::size_t>(i % kCsrPool)]}, {"ott", *token}}.dump());
  }
  auto ctx = http::make_client_tls_context(*root_pem, false, std::nullopt);
  if (!ctx) return fail_with(ctx.error().message);
  if (url->is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx->get()), url->host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx->get()), url->host.c_str(), 0);
  }

  const std::string pid = args.get("server-pid");
  ProcStats before = pid.empty() ? ProcStats{} : read_proc(pid);
  auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < *concurrency; ++i) threads.emplace_back(worker, std::cref(*url), ctx->get(), std::ref(shared));
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  ProcStats after = pid.empty() ? ProcStats{} : read_proc(pid);

  auto& lat = shared.latencies_ms;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))]; };
  const double ok = static_cast<double>(*requests) - static_cast<double>(shared.failures.load());
  std::printf("clients=%d requests=%d ok=%.0f failed=%zu seconds=%.3f certs_per_second=%.0f p50_ms=%.2f p99_ms=%.2f",
              *concurrency, *requests, ok, shared.failures.load(), seconds, ok / seconds, pct(0.50), pct(0.99));
  if (!pid.empty()) {
    std::printf(" server_cpu_ms_per_cert=%.3f server_rss_mib=%.1f",
                (after.cpu_seconds - before.cpu_seconds) * 1000.0 / std::max(ok, 1.0), after.rss_kib / 1024.0);
  }
  std::printf("\n");
  if (shared.failures > 0) return fail_with("some requests failed; first: " + shared.first_error);
  return 0;
}

}  // namespace

Command bench_sign_command() { return {spec(), run}; }

}  // namespace keystep::cli
