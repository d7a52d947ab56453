// keystep bench certificaterequests: a load client for a cert-manager
// external issuer on a real API server. It makes P-256 keys and CSRs before
// the clock starts, then creates CertificateRequests (cert-manager.io/v1)
// labelled with a run id, approves each the way cert-manager's approver
// does (the Approved condition through the status subresource) and times
// each from just before its POST to the moment its watch sees Ready=True
// reason Issued. At most --concurrency requests are in flight: 1 measures
// one at a time, --requests a burst. With --zero-work the command is itself
// the issuer and does nothing but the status patch (ZeroWorkIssuer): the API
// server's floor on the same machine. It exits 1 naming the request when one
// ends Failed or Denied, is not Ready within --timeout, or (from Keystep)
// carries a certificate for another key. Every request it made is deleted
// at the end.

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/certificate_request.h"
#include "cli/commands.h"
#include "cli/zero_work_issuer.h"
#include "issuer/common/base64.h"
#include "issuer/common/duration.h"
#include "issuer/crypto/certificate.h"
#include "issuer/crypto/key.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_config.h"
#include "operator/status/conditions.h"

namespace keystep::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;
const auto& kRequests = kube::resources::kCertificateRequests;

constexpr char kRunLabel[] = "bench.keystep.dev/run";
// Keystep only signs for keystep.dev: a zero-work run beside it stays apart.
constexpr char kZeroWorkGroup[] = "zero-work.bench.keystep.dev";
constexpr std::chrono::seconds kSyncTimeout{30};
constexpr std::chrono::milliseconds kTimeoutCheck{100};
constexpr std::size_t kShownFailures = 5;

CommandSpec spec() {
  CommandSpec s;
  s.path = "bench certificaterequests";
  s.summary = "measure CertificateRequest created -> Ready=True latency and throughput on an API server";
  s.description =
      "Creates --requests cert-manager CertificateRequests (P-256 CSRs made beforehand) for the issuer named\n"
      "by --issuer-name/--issuer-kind/--issuer-group, approves each as cert-manager's approver does, and times\n"
      "each from before its POST until a watch sees Ready=True reason Issued. At most --concurrency are in\n"
      "flight (1: one at a time). Prints throughput and p50/p95/p99/max latency; exits 1 if any request ends\n"
      "Failed or Denied or misses --timeout. With --zero-work the bench itself answers every approved\n"
      "request with one status patch and a fixed certificate (issuerRef group " +
      std::string(kZeroWorkGroup) +
      " unless\n--issuer-group is given): the floor of the API server. The requests carry the label " +
      kRunLabel +
      "\nand are deleted at the end. --record writes \"namespace/name uid serial\" per issued request.\n"
      "hack/bench-operator.sh runs it against a fresh kube-apiserver.\n\n"
      "Examples:\n"
      "  keystep bench certificaterequests --kubeconfig admin.kubeconfig --namespace bench --issuer-name bench \\\n"
      "    --requests 1000 --concurrency 1000\n"
      "  keystep bench certificaterequests --kubeconfig admin.kubeconfig --namespace bench --zero-work --requests 200";
  s.flags = {
      {"kubeconfig", "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
      {"kube-context", "kubeconfig context (default: current-context)"},
      {"namespace", "namespace of the CertificateRequests (default: the kubeconfig's)"},
      {"issuer-name", "issuerRef.name (required unless --zero-work)"},
      {"issuer-kind", "issuerRef.kind", true, false, "StepClusterIssuer"},
      {"issuer-group", "issuerRef.group", true, false, "keystep.dev"},
      {"requests", "number of CertificateRequests", true, false, "200"},
      {"concurrency", "requests in flight at once (1: one at a time)", true, false, "1"},
      {"clients", "connections creating and approving requests, at most --concurrency", true, false, "8"},
      {"timeout", "how long each request may take to become Ready", true, false, "60s"},
      {"zero-work", "answer the requests from the bench itself, doing nothing but the status patch", false},
      {"zero-work-workers", "status-patching workers of --zero-work (Keystep runs 2)", true, false, "2"},
      {"record", "write \"namespace/name uid serial\" of every issued request to this file"},
  };
  return s;
}

enum class State { waiting, in_flight, issued, failed };

struct Request {
  std::string name;
  crypto::EvpPkeyPtr key;
  json object;  // the CertificateRequest to create
  State state = State::waiting;
  SteadyClock::time_point created_at{};
  SteadyClock::time_point ready_at{};
  std::string failure;
};

// Run is what the creating clients, the informer's handler and the main
// thread share; every field is guarded by mu.
struct Run {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Request> requests;
  std::map<std::string, std::size_t> by_name;
  int concurrency = 1;
  int in_flight = 0;
  std::size_t next = 0;  // the next request to create
  int clients_running = 0;
  bool is_aborted = false;  // stop creating: an API error or a timeout

  // finish settles an in-flight request; the caller holds mu.
  void finish(Request& r, State state, SteadyClock::time_point at, std::string failure) {
    if (r.state != State::in_flight) return;
    r.state = state;
    r.ready_at = at;
    r.failure = std::move(failure);
    --in_flight;
    cv.notify_all();
  }
};

std::string random_run_id() {
  unsigned char bytes[4];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::to_string(std::time(nullptr));
  return common::hex_encode(bytes, sizeof bytes);
}

// describe_state says what a request looked like when it was given up on.
std::string describe_state(const std::optional<json>& cr) {
  if (!cr) return "never seen by the watch";
  std::string out;
  for (const char* type : {"Approved", "Ready"}) {
    auto c = kube_status::find_condition(*cr, type);
    if (!out.empty()) out += ", ";
    out += std::string(type) + "=" + (c ? c->status + (c->reason.empty() ? "" : " " + c->reason) : "absent");
    if (c && !c->message.empty() && std::string(type) == "Ready") out += " (" + c->message + ")";
  }
  return out;
}

json approval_patch() {
  return {{"status",
           {{"conditions",
             {{{"type", "Approved"},
               {"status", "True"},
               {"reason", "cert-manager.io"},
               {"message", "Certificate request has been approved by cert-manager.io"},
               {"lastTransitionTime", kube_status::format_time(std::chrono::system_clock::now())}}}}}}};
}

// create_requests is one client: it takes the next request while fewer
// than `concurrency` are in flight, creates and approves it.
void create_requests(Run& run, kube::Client& client, const std::string& ns) {
  for (;;) {
    Request* r = nullptr;
    {
      std::unique_lock lock(run.mu);
      run.cv.wait(lock, [&] {
        return run.is_aborted || run.next >= run.requests.size() || run.in_flight < run.concurrency;
      });
      if (run.is_aborted || run.next >= run.requests.size()) break;
      r = &run.requests[run.next++];
      ++run.in_flight;
      r->state = State::in_flight;
      r->created_at = SteadyClock::now();
    }
    std::string failure;
    if (auto created = client.create(kRequests, ns, r->object); !created) {
      failure = created.error().message;
    } else if (auto approved = client.merge_patch(kRequests, {ns, r->name}, approval_patch(), "status"); !approved) {
      failure = "approve: " + approved.error().message;
    }
    if (!failure.empty()) {
      std::lock_guard lock(run.mu);
      run.finish(*r, State::failed, SteadyClock::now(), failure);
      run.is_aborted = true;
    }
  }
  std::lock_guard lock(run.mu);
  --run.clients_running;
  run.cv.notify_all();
}

// observe settles a request from what the watch shows.
void observe(Run& run, const json& cr) {
  const auto now = SteadyClock::now();
  const auto name = kube::key_of(cr).name;
  const auto ready = kube_status::find_condition(cr, "Ready");
  std::lock_guard lock(run.mu);
  auto it = run.by_name.find(name);
  if (it == run.by_name.end()) return;
  Request& r = run.requests[it->second];
  if (ready && ready->status == "True") {
    if (ready->reason == "Issued") {
      run.finish(r, State::issued, now, "");
    } else {
      run.finish(r, State::failed, now, "Ready=True with reason " + ready->reason + ", not Issued");
    }
  } else if (ready && (ready->reason == "Failed" || ready->reason == "Denied")) {
    run.finish(r, State::failed, now, "Ready=False " + ready->reason + ": " + ready->message);
  } else if (kube_status::is_condition_true(cr, "Denied")) {
    run.finish(r, State::failed, now, "Denied=True");
  }
}

// wait_until_settled returns when no client runs and nothing is in flight,
// failing every request older than `timeout`.
void wait_until_settled(Run& run, const kube::Informer& informer, const std::string& ns,
                        std::chrono::milliseconds timeout) {
  std::unique_lock lock(run.mu);
  while (run.clients_running > 0 || run.in_flight > 0) {
    const auto now = SteadyClock::now();
    std::vector<Request*> late;
    for (auto& r : run.requests) {
      if (r.state == State::in_flight && now - r.created_at > timeout) late.push_back(&r);
    }
    if (!late.empty()) {
      run.is_aborted = true;
      run.cv.notify_all();
      lock.unlock();  // the informer's lock is never taken under ours
      std::vector<std::string> states;
      for (auto* r : late) states.push_back(describe_state(informer.get({ns, r->name})));
      lock.lock();
      for (std::size_t i = 0; i < late.size(); ++i) {
        run.finish(*late[i], State::failed, now,
                   "not Ready within " + common::format_duration(timeout) + ": " + states[i]);
      }
      continue;
    }
    run.cv.wait_for(lock, kTimeoutCheck);
  }
}

// check_issued verifies that Keystep's certificate carries the request's
// key, and returns the leaf's serial for the record.
Result<std::string> check_issued(const json& cr, EVP_PKEY* key, bool is_zero_work) {
  const auto encoded = cr.value("status", json::object()).value("certificate", "");
  auto pem = common::base64_decode(encoded);
  if (!pem || pem->empty()) return fail(Errc::invalid_argument, "status.certificate is not base64 PEM");
  auto leaf = crypto::Certificate::from_pem(common::to_string(*pem));
  if (!leaf) return tl::unexpected(with_context(leaf.error(), "status.certificate"));
  if (!is_zero_work && !crypto::same_public_key(leaf->public_key(), key)) {
    return fail(Errc::invalid_argument, "status.certificate is for another public key than the CSR's");
  }
  return leaf->serial_decimal();
}

Status delete_requests(kube::Client& client, const std::string& ns, const std::string& run_id) {
  // labelSelector=bench.keystep.dev/run=<id>, percent-encoded.
  std::string selector;
  for (char c : std::string(kRunLabel) + "=" + run_id) {
    if (c == '/') selector += "%2F";
    else if (c == '=') selector += "%3D";
    else selector += c;
  }
  auto r = client.raw("DELETE", kRequests.collection_path(ns) + "?labelSelector=" + selector);
  if (!r) return tl::unexpected(r.error());
  return ok();
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int run(const Args& args) {
  const bool is_zero_work = args.get_bool("zero-work", false);
  auto requests = args.get_int("requests", 200);
  auto concurrency = args.get_int("concurrency", 1);
  auto clients = args.get_int("clients", 8);
  auto workers = args.get_int("zero-work-workers", 2);
  if (!requests || *requests < 1) return usage_error(spec(), "flag --requests must be at least 1");
  if (!concurrency || *concurrency < 1) return usage_error(spec(), "flag --concurrency must be at least 1");
  if (!clients || *clients < 1) return usage_error(spec(), "flag --clients must be at least 1");
  if (!workers || *workers < 1) return usage_error(spec(), "flag --zero-work-workers must be at least 1");
  auto timeout = common::parse_duration(args.get("timeout", "60s"));
  if (!timeout || timeout->count() <= 0) return usage_error(spec(), "flag --timeout must be a positive duration");
  const std::string issuer_name = args.get("issuer-name", is_zero_work ? "zero-work" : "");
  if (issuer_name.empty()) return usage_error(spec(), "flag --issuer-name is required (or use --zero-work)");
  const std::string group = args.get("issuer-group", is_zero_work ? kZeroWorkGroup : "keystep.dev");
  const json issuer_ref = {
      {"name", issuer_name}, {"kind", args.get("issuer-kind", "StepClusterIssuer")}, {"group", group}};

  auto kube_config = kube::resolve_config(args.get("kubeconfig"), args.get("kube-context"));
  if (!kube_config) return fail_with("kubernetes: " + kube_config.error().message);
  auto client = kube::Client::create(std::move(*kube_config));
  if (!client) return fail_with("kubernetes: " + client.error().message);
  const std::string ns = args.get("namespace", (*client)->default_namespace());
  const std::string run_id = random_run_id();

  std::ofstream record;
  if (args.has("record")) {
    record.open(args.get("record"), std::ios::trunc);
    if (!record) return fail_with("cannot write " + args.get("record"));
  }

  // Prepare: one key and CSR per request (client work, not the issuer's).
  Run shared;
  shared.concurrency = std::min(*concurrency, *requests);
  shared.requests.resize(static_cast<std::size_t>(*requests));
  for (std::size_t i = 0; i < shared.requests.size(); ++i) {
    Request& r = shared.requests[i];
    r.name = "bench-" + run_id + "-" + std::to_string(i);
    auto key = crypto::generate_key({});
    if (!key) return fail_with(key.error().message);
    r.key = std::move(*key);
    auto csr = make_csr_pem(r.key.get(), r.name + ".internal", {r.name + ".internal"});
    if (!csr) return fail_with(csr.error().message);
    r.object = {{"apiVersion", kRequests.api_version()},
                {"kind", kRequests.kind},
                {"metadata", {{"name", r.name}, {"namespace", ns}, {"labels", {{kRunLabel, run_id}}}}},
                {"spec",
                 {{"request", common::base64_encode(common::to_bytes(*csr))},
                  {"issuerRef", issuer_ref},
                  {"usages", {"digital signature", "key encipherment"}}}}};
    shared.by_name[r.name] = i;
  }

  kube::Informer informer(**client, kRequests,
                          kube::InformerOptions{.ns = ns, .label_selector = std::string(kRunLabel) + "=" + run_id});
  std::unique_ptr<ZeroWorkIssuer> zero_work;
  if (is_zero_work) {
    auto on_error = [&shared](const kube::ObjectKey& key, const std::string& message) {
      std::lock_guard lock(shared.mu);
      if (auto it = shared.by_name.find(key.name); it != shared.by_name.end()) {
        shared.finish(shared.requests[it->second], State::failed, SteadyClock::now(), message);
      }
    };
    auto made = ZeroWorkIssuer::create(**client, informer, *workers, on_error);
    if (!made) return fail_with(made.error().message);
    zero_work = std::move(*made);
  }
  informer.add_handler([&](const kube::InformerEvent& e) {
    if (e.object == nullptr) return;
    observe(shared, *e.object);
    if (zero_work) zero_work->offer(*e.object);
  });
  informer.start();
  if (!informer.wait_for_sync(kSyncTimeout)) {
    informer.stop();  // its handler uses zero_work, which goes first
    return fail_with("cannot list certificaterequests.cert-manager.io in namespace " + ns +
                     ": are cert-manager's CRDs installed and may this user list them?");
  }

  shared.clients_running = std::min(*clients, shared.concurrency);
  std::vector<std::thread> threads;
  for (int i = 0; i < shared.clients_running; ++i) {
    threads.emplace_back(create_requests, std::ref(shared), std::ref(**client), std::cref(ns));
  }
  wait_until_settled(shared, informer, ns, std::chrono::duration_cast<std::chrono::milliseconds>(*timeout));
  for (auto& t : threads) t.join();
  if (zero_work) zero_work->stop();
  informer.stop();

  // Results: the clock stopped at the last Ready; checks below are untimed.
  std::vector<double> latencies_ms;
  std::vector<std::string> failures;
  auto first_created = SteadyClock::time_point::max();
  auto last_ready = SteadyClock::time_point::min();
  std::size_t created = 0;
  for (auto& r : shared.requests) {
    if (r.state == State::waiting) continue;
    ++created;
    first_created = std::min(first_created, r.created_at);
    if (r.state == State::issued) {
      auto cr = informer.get({ns, r.name});
      Result<std::string> serial = cr ? check_issued(*cr, r.key.get(), is_zero_work)
                                      : fail(Errc::not_found, "missing from the watch's cache");
      if (!serial) {
        r.state = State::failed;
        r.failure = serial.error().message;
      } else {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(r.ready_at - r.created_at).count());
        last_ready = std::max(last_ready, r.ready_at);
        if (record.is_open()) {
          record << ns << "/" << r.name << " " << cr->value("metadata", json::object()).value("uid", "") << " "
                 << *serial << "\n";
        }
      }
    }
    if (r.state == State::failed) failures.push_back(ns + "/" + r.name + ": " + r.failure);
  }
  if (record.is_open()) record.close();

  auto cleaned = delete_requests(**client, ns, run_id);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double seconds =
      latencies_ms.empty() ? 0 : std::chrono::duration<double>(last_ready - first_created).count();
  std::printf(
      "mode=%s concurrency=%d requests=%d created=%zu issued=%zu failed=%zu seconds=%.3f "
      "requests_per_second=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      is_zero_work ? "zero-work" : "issuer", shared.concurrency, *requests, created, latencies_ms.size(),
      failures.size(), seconds, seconds > 0 ? static_cast<double>(latencies_ms.size()) / seconds : 0.0,
      percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.95), percentile(latencies_ms, 0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back());
  std::fflush(stdout);
  for (std::size_t i = 0; i < failures.size() && i < kShownFailures; ++i) {
    std::cerr << "failed: " << failures[i] << "\n";
  }
  if (!cleaned) {
    std::cerr << "keystep: cleanup: " << cleaned.error().message << " (delete CertificateRequests labelled "
              << kRunLabel << "=" << run_id << " by hand)\n";
  }
  if (!failures.empty()) {
    return fail_with(std::to_string(failures.size()) + " of " + std::to_string(*requests) +
                     " CertificateRequests were not issued; first: " + failures.front());
  }
  if (created < shared.requests.size()) {
    return fail_with("only " + std::to_string(created) + " of " + std::to_string(*requests) + " requests were created");
  }
  return cleaned ? 0 : kExitFailure;
}

}  // namespace

Command bench_certificaterequests_command() { return {spec(), run}; }

}  // namespace keystep::cli
