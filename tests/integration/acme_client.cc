#include "tests/integration/acme_client.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "issuer/crypto/jose/jws.h"
#include "issuer/http/server.h"
#include "tests/integration/harness.h"

namespace keystep::integration {
namespace {

std::string origin_of(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const auto path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

std::string alg_of(const jose::Jwk& key) {
  switch (key.key_type()) {
    case jose::KeyType::rsa:
      return "RS256";
    case jose::KeyType::okp:
      return "EdDSA";
    case jose::KeyType::ec:
      break;
  }
  return "ES256";
}

// flattened turns a compact JWS into RFC 7515 flattened JSON.
nlohmann::json flattened(const std::string& compact) {
  const auto first = compact.find('.');
  const auto second = compact.find('.', first + 1);
  return {{"protected", compact.substr(0, first)},
          {"payload", compact.substr(first + 1, second - first - 1)},
          {"signature", compact.substr(second + 1)}};
}

// public_jwk is the key's public members only (kty, crv, x, y / n, e).
nlohmann::json public_jwk(const jose::Jwk& key) {
  nlohmann::json out = key.public_json();
  for (const char* member : {"kid", "alg", "use"}) out.erase(member);
  return out;
}

std::string sign_flattened_compact(const nlohmann::json& header, const std::string& payload, const jose::Jwk& key) {
  auto compact = jose::sign_compact(header, payload, key);
  if (!compact) throw HarnessError("signing an ACME request failed: " + compact.error().message);
  return *compact;
}

}  // namespace

jose::Jwk make_account_key(AccountKeyType type) {
  Result<jose::Jwk> key = type == AccountKeyType::rs256   ? jose::Jwk::generate("RSA", 2048, "")
                          : type == AccountKeyType::eddsa ? jose::Jwk::generate("OKP", 0, "Ed25519")
                                                          : jose::Jwk::generate("EC", 0, "P-256");
  if (!key) throw HarnessError("generating an account key failed: " + key.error().message);
  return std::move(*key);
}

// --- AcmeReply ---

std::string AcmeReply::header(std::string_view name) const {
  const std::string* value = http::find_header(headers, name);
  return value == nullptr ? std::string() : *value;
}

std::vector<std::string> AcmeReply::all_headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (http::iequals(n, name)) out.push_back(v);
  }
  return out;
}

bool AcmeReply::has_link(std::string_view rel, std::string_view target) const {
  const std::string wanted_rel = "rel=\"" + std::string(rel) + "\"";
  for (const auto& value : all_headers("Link")) {
    // One header may hold several comma-separated links.
    std::size_t start = 0;
    while (start < value.size()) {
      auto end = value.find(",<", start);
      if (end == std::string::npos) end = value.size();
      const std::string link = value.substr(start, end - start);
      const auto open = link.find('<');
      const auto close = link.find('>');
      if (open != std::string::npos && close != std::string::npos && link.find(wanted_rel) != std::string::npos) {
        if (target.empty() || link.substr(open + 1, close - open - 1) == target) return true;
      }
      start = end + 1;
    }
  }
  return false;
}

nlohmann::json AcmeReply::json() const {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) throw HarnessError("the ACME reply is not JSON: " + describe());
  return parsed;
}

std::string AcmeReply::problem_type() const {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string()) return "";
  return parsed["type"].get<std::string>();
}

std::string AcmeReply::describe() const {
  std::string out = method + " " + url + " -> " + std::to_string(status) + "\n";
  for (const auto& [n, v] : headers) out += "  " + n + ": " + v + "\n";
  out += body.size() > 4000 ? body.substr(0, 4000) + "..." : body;
  return out;
}

const AcmeReply& require_status(const AcmeReply& reply, int status, const std::string& what) {
  if (reply.status != status) {
    throw HarnessError(what + ": expected HTTP " + std::to_string(status) + ", got " + reply.describe());
  }
  return reply;
}

// --- Http01Responder ---

Http01Responder::Http01Responder() : state_(std::make_shared<State>()) {
  auto router = std::make_shared<http::Router>();
  router->add("GET", "/.well-known/acme-challenge/{token}", [state = state_](const http::Request& req) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(state->mutex);
      delay = state->delay;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(state->mutex);
    auto found = state->answers.find(req.params.at("token"));
    if (found == state->answers.end()) return http::Response::text(404, "no such token\n");
    ++state->requests;
    return http::Response::text(200, found->second, "application/octet-stream");
  });
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  server_ = std::make_unique<http::Server>(options, router);
  if (auto s = server_->start(); !s) throw HarnessError("http-01 responder: " + s.error().message);
}

Http01Responder::~Http01Responder() { server_->stop(); }

unsigned short Http01Responder::port() const { return server_->port(); }

void Http01Responder::serve(const std::string& token, const std::string& key_authorization) {
  std::lock_guard lock(state_->mutex);
  state_->answers[token] = key_authorization;
}

void Http01Responder::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(state_->mutex);
  state_->delay = delay;
}

int Http01Responder::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

// --- AcmeClient ---

AcmeClient::AcmeClient(std::string directory_url, std::string root_pem, jose::Jwk key)
    : directory_url_(std::move(directory_url)), key_(std::move(key)) {
  http_.root_pem = std::move(root_pem);
  http_.timeout = std::chrono::seconds(30);
  http_.user_agent = "keystep-acme-test-client";
}

AcmeClient AcmeClient::fork() const {
  AcmeClient copy = *this;
  copy.nonces_.clear();
  copy.last_nonce_.clear();
  return copy;
}

std::string AcmeClient::rebase(const std::string& url) const {
  if (origin_.empty()) return url;
  const std::string from = origin_of(url);
  if (from.empty()) return url;
  return origin_ + url.substr(from.size());
}

AcmeReply AcmeClient::send(const std::string& method, const std::string& url, const std::string& body,
                           const http::HeaderList& headers) {
  const std::string target = rebase(url);
  auto response = http::request(http_, method, target, body, headers);
  if (!response) throw HarnessError(method + " " + target + " failed: " + response.error().message);
  AcmeReply reply{method, target, response->status, std::move(response->headers), response->content_type,
                  std::move(response->body)};
  if (std::string nonce = reply.header("Replay-Nonce"); !nonce.empty()) nonces_.push_back(nonce);
  return reply;
}

const nlohmann::json& AcmeClient::directory() {
  if (!directory_) {
    auto reply = send("GET", directory_url_, "", {});
    require_status(reply, 200, "GET directory");
    directory_ = reply.json();
  }
  return *directory_;
}

std::string AcmeClient::resource(const std::string& name) {
  const auto& dir = directory();
  if (!dir.contains(name) || !dir[name].is_string()) {
    throw HarnessError("the ACME directory has no " + name + ": " + dir.dump());
  }
  return dir[name].get<std::string>();
}

AcmeReply AcmeClient::get(const std::string& url) { return send("GET", url, "", {}); }

AcmeReply AcmeClient::head(const std::string& url) { return send("HEAD", url, "", {}); }

std::string AcmeClient::fresh_nonce() {
  auto reply = head(resource("newNonce"));
  std::string nonce = reply.header("Replay-Nonce");
  if (nonce.empty()) throw HarnessError("newNonce gave no Replay-Nonce: " + reply.describe());
  nonces_.pop_back();  // send() kept it; the caller owns it now
  return nonce;
}

std::string AcmeClient::take_nonce() {
  if (nonces_.empty()) return fresh_nonce();
  std::string nonce = nonces_.back();
  nonces_.pop_back();
  return nonce;
}

AcmeReply AcmeClient::post(const std::string& url, const std::string& payload, const PostOptions& options) {
  const jose::Jwk& signer = options.sign_with != nullptr ? *options.sign_with : key_;
  nlohmann::json header = {{"alg", alg_of(signer)}, {"url", options.header_url.value_or(rebase(url))}};
  if (!options.omit_nonce) {
    last_nonce_ = options.nonce ? *options.nonce : take_nonce();
    header["nonce"] = last_nonce_;
  }
  bool use_kid = options.key_ref == PostOptions::KeyRef::kid;
  if (options.key_ref == PostOptions::KeyRef::automatic) use_kid = options.kid || !account_url_.empty();
  if (use_kid) {
    header["kid"] = options.kid ? *options.kid : rebase(account_url_);
  } else {
    header["jwk"] = public_jwk(signer);
  }
  const std::string body = flattened(sign_flattened_compact(header, payload, signer)).dump();
  return send("POST", url, body, {{"Content-Type", options.content_type}});
}

AcmeReply AcmeClient::new_account(const NewAccountOptions& options) {
  nlohmann::json payload = nlohmann::json::object();
  if (!options.contact.empty()) payload["contact"] = options.contact;
  if (options.terms_of_service_agreed) payload["termsOfServiceAgreed"] = true;
  if (options.only_return_existing) payload["onlyReturnExisting"] = true;
  if (options.external_account_binding) payload["externalAccountBinding"] = *options.external_account_binding;
  auto reply = post(resource("newAccount"), payload, {.key_ref = PostOptions::KeyRef::jwk});
  if ((reply.status == 200 || reply.status == 201) && !reply.location().empty()) account_url_ = reply.location();
  return reply;
}

AcmeReply AcmeClient::new_order(const std::vector<AcmeIdentifier>& identifiers, const nlohmann::json& extra) {
  nlohmann::json payload = extra;
  payload["identifiers"] = nlohmann::json::array();
  for (const auto& id : identifiers) payload["identifiers"].push_back(id.to_json());
  return post(resource("newOrder"), payload);
}

AcmeReply AcmeClient::finalize(const std::string& finalize_url, const common::Bytes& csr) {
  return post(finalize_url, nlohmann::json{{"csr", common::base64url_encode(csr)}});
}

AcmeReply AcmeClient::revoke(const common::Bytes& certificate, std::optional<int> reason, const PostOptions& options) {
  nlohmann::json payload = {{"certificate", common::base64url_encode(certificate)}};
  if (reason) payload["reason"] = *reason;
  return post(resource("revokeCert"), payload, options);
}

AcmeReply AcmeClient::deactivate_account() {
  return post(account_url_, nlohmann::json{{"status", "deactivated"}});
}

AcmeReply AcmeClient::key_change(const jose::Jwk& new_key) {
  const std::string url = rebase(resource("keyChange"));
  const nlohmann::json inner_header = {{"alg", alg_of(new_key)}, {"jwk", public_jwk(new_key)}, {"url", url}};
  const nlohmann::json inner_payload = {{"account", rebase(account_url_)}, {"oldKey", public_jwk(key_)}};
  const nlohmann::json inner = flattened(sign_flattened_compact(inner_header, inner_payload.dump(), new_key));
  auto reply = post(url, inner);
  if (reply.status == 200) key_ = new_key;
  return reply;
}

AcmeReply AcmeClient::orders() {
  auto account = post_as_get(account_url_);
  require_status(account, 200, "POST-as-GET account");
  return post_as_get(account.json().value("orders", rebase(account_url_) + "/orders"));
}

AcmeReply AcmeClient::renewal_info(const std::string& cert_id) { return get(resource("renewalInfo") + "/" + cert_id); }

std::string AcmeClient::key_authorization(const std::string& token) const { return token + "." + key_.thumbprint(); }

std::string AcmeClient::serve_http01(const std::string& authz_url, Http01Responder& responder) {
  auto authz = post_as_get(authz_url);
  require_status(authz, 200, "POST-as-GET authorization");
  const auto challenges = authz.json().value("challenges", nlohmann::json::array());
  for (const auto& c : challenges) {
    if (c.value("type", "") != "http-01") continue;
    const std::string token = c.value("token", "");
    responder.serve(token, key_authorization(token));
    return c.value("url", "");
  }
  throw HarnessError("authorization without an http-01 challenge: " + authz.describe());
}

AcmeReply AcmeClient::wait_status(const std::string& url) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  for (;;) {
    auto reply = post_as_get(url);
    require_status(reply, 200, "POST-as-GET " + url);
    const std::string status = reply.json().value("status", "");
    if (status != "pending" && status != "processing") return reply;
    if (std::chrono::steady_clock::now() > deadline) {
      throw HarnessError("still " + status + " after " + std::to_string(kWaitTimeout.count()) + "s: " +
                         reply.describe());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

AcmeClient::ReadyOrder AcmeClient::ready_order(const std::vector<AcmeIdentifier>& identifiers,
                                               Http01Responder& responder) {
  auto created = new_order(identifiers);
  require_status(created, 201, "newOrder");
  const auto order = created.json();
  const auto authorizations = order.value("authorizations", nlohmann::json::array());
  for (const auto& authz_url : authorizations) {
    const std::string challenge = serve_http01(authz_url.get<std::string>(), responder);
    require_status(answer_challenge(challenge), 200, "answer http-01");
  }
  for (const auto& authz_url : authorizations) {
    auto done = wait_status(authz_url.get<std::string>());
    if (done.json().value("status", "") != "valid") throw HarnessError("authorization not valid: " + done.describe());
  }
  auto ready = wait_status(created.location());
  if (ready.json().value("status", "") != "ready") throw HarnessError("order not ready: " + ready.describe());
  return {created.location(), order.value("finalize", "")};
}

AcmeClient::IssuedOrder AcmeClient::obtain_certificate(const std::vector<AcmeIdentifier>& identifiers,
                                                       Http01Responder& responder) {
  const ReadyOrder ready = ready_order(identifiers, responder);
  IssuedOrder out;
  out.order_url = ready.url;
  out.key = testing::make_key();
  testing::CsrSpec spec;
  for (const auto& id : identifiers) (id.type == "ip" ? spec.ips : spec.dns).push_back(id.value);
  auto finalized = finalize(ready.finalize, csr_der(out.key.get(), spec));
  require_status(finalized, 200, "finalize");
  auto valid = finalized.json().value("status", "") == "valid" ? finalized : wait_status(out.order_url);
  out.order = valid.json();
  if (out.order.value("status", "") != "valid") throw HarnessError("order not valid: " + valid.describe());
  auto cert = download(out.order.value("certificate", ""));
  require_status(cert, 200, "download certificate");
  out.chain_pem = cert.body;
  return out;
}

// --- PKI helpers ---

common::Bytes csr_der(EVP_PKEY* key, const testing::CsrSpec& spec) {
  const std::string pem = testing::make_csr_pem(key, spec);
  crypto::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  crypto::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) throw HarnessError("test CSR does not parse");
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) throw HarnessError("test CSR does not encode");
  common::Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

common::Bytes certificate_der(const std::string& chain_pem) {
  crypto::BioPtr bio(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw HarnessError("no certificate in PEM: " + chain_pem);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) throw HarnessError("certificate does not encode");
  common::Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string acme_cert_id(const std::string& certificate_pem) {
  crypto::BioPtr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw HarnessError("no certificate in PEM: " + certificate_pem);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());  // borrowed
  if (aki == nullptr) throw HarnessError("certificate has no authority key identifier");
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());  // borrowed
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_INTEGER(serial, &der);
  if (len <= 2) throw HarnessError("serial does not encode");
  common::Bytes integer(der, der + len);
  OPENSSL_free(der);
  // Skip the tag and the (short or long form) length: the content octets remain.
  std::size_t header = 2;
  if (integer[1] & 0x80) header += integer[1] & 0x7f;
  const std::string key_id(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                           static_cast<std::size_t>(ASN1_STRING_length(aki)));
  return common::base64url_encode(key_id) + "." +
         common::base64url_encode(integer.data() + header, integer.size() - header);
}

void edit_yaml(const std::filesystem::path& file, const std::function<void(YAML::Node&)>& edit) {
  YAML::Node config = YAML::LoadFile(file.string());
  edit(config);
  YAML::Emitter out;
  out << config;
  write_text(file, std::string(out.c_str()) + "\n");
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail() || text.empty() || text.back() != 'Z') throw HarnessError("not an RFC 3339 UTC time: " + text);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace keystep::integration
