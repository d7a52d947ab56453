// keystep init: the offline ceremony. Makes a root and an intermediate CA,
// a JWK provisioner, a ready standalone config and a Kubernetes Secret that
// holds only the intermediate. Also the online half of the split flow
// (--intermediate-csr-only) and adoption of an existing openssl-made PKI.

#include <filesystem>
#include <iostream>

#include <openssl/pem.h>

#include "cli/ca_material.h"
#include "cli/commands.h"
#include "cli/output_file.h"
#include "cli/pki_layout.h"
#include "issuer/common/base64.h"
#include "issuer/common/file.h"
#include "issuer/crypto/certificate_builder.h"
#include "issuer/crypto/jose/jwe.h"
#include "issuer/crypto/jose/jwk.h"
#include "issuer/crypto/key.h"
#include "issuer/crypto/password.h"
#include "issuer/signing/certificate_authority.h"

namespace keystep::cli {
namespace {

namespace fs = std::filesystem;
using fs::perms;

constexpr perms kPublic = kPublicFileMode;
constexpr perms kPrivate = kPrivateFileMode;

CommandSpec spec() {
  CommandSpec s;
  s.path = "init";
  s.usage = "--name NAME --dns NAMES --out DIR (--password-file FILE | --no-password)";
  s.summary = "make a root and an intermediate CA, a provisioner and a server config (offline ceremony)";
  s.description =
      "Run this on an offline machine. It writes, under DIR:\n"
      "  certs/root_ca.crt               the root certificate (distribute it to clients)\n"
      "  secrets/root_ca_key             the root key, encrypted: keep it offline\n"
      "  certs/intermediate_ca.crt       the intermediate certificate (pathlen 0)\n"
      "  secrets/intermediate_ca_key     the intermediate key, encrypted\n"
      "  secrets/<provisioner>.jwk       the JWK provisioner's private key (JWE, PBES2)\n"
      "  config/keystep.yaml             a standalone server config (keystep serve --config)\n"
      "  kubernetes/intermediate-secret.yaml  a Secret with the intermediate only (never the root key)\n"
      "and prints the root's SHA-256 fingerprint, which clients use to bootstrap trust.\n\n"
      "Split flow for a root that never leaves an offline machine:\n"
      "  online:  keystep init --intermediate-csr-only ... --out DIR   (writes the key and certs/intermediate_ca.csr)\n"
      "  offline: keystep ca sign-intermediate DIR/certs/intermediate_ca.csr intermediate_ca.crt --root-cert ROOT --root-key KEY\n"
      "  online:  keystep init --root-cert ROOT --intermediate-cert intermediate_ca.crt \\\n"
      "             --intermediate-key DIR/secrets/intermediate_ca_key ... --out LIVE   (adopts them, below)\n\n"
      "Adopt an existing PKI (for example made with openssl) with --root-cert, --intermediate-cert and\n"
      "--intermediate-key; the files are validated and copied as they are.\n\n"
      "Example:\n"
      "  keystep init --name \"Corp CA\" --dns ca.internal,localhost,127.0.0.1 --address 127.0.0.1:9000 \\\n"
      "    --provisioner admin --password-file pw.txt --out ./ca";
  s.flags = {
      {"name", "name of the PKI; the CAs are \"NAME Root CA\" and \"NAME Intermediate CA\""},
      {"dns", "DNS names and IPs of the CA server, comma-separated (repeatable)", true, true},
      {"address", "address the server listens on", true, false, "127.0.0.1:9000"},
      {"provisioner", "name of the JWK provisioner", true, false, "admin"},
      {"password-file", "file whose first line encrypts every private key written"},
      {"no-password", "write every key unencrypted (throwaway development PKIs only)", false},
      {"out", "directory to write into"},
      {"kty", "key type of the CA keys: EC, RSA or OKP (Ed25519)", true, false, "EC"},
      {"crv", "curve of EC keys: P-256 or P-384", true, false, "P-256"},
      {"size", "RSA key size: 2048, 3072 or 4096", true, false, "2048"},
      {"root-duration", "root lifetime, e.g. 10y or 87600h", true, false, "10y"},
      {"intermediate-duration", "intermediate lifetime", true, false, "5y"},
      {"intermediate-csr-only", "write only the intermediate key and its CSR, for an offline root to sign", false},
      {"root-cert", "adopt this existing root certificate"},
      {"intermediate-cert", "adopt this existing intermediate certificate (with its chain)"},
      {"intermediate-key", "adopt this existing intermediate key (encrypted with --password-file, or plain)"},
      {"secret-name", "name of the Kubernetes Secret", true, false, "keystep-intermediate"},
      {"secret-namespace", "namespace of the Kubernetes Secret", true, false, "keystep"},
      {"force", "overwrite an existing PKI in DIR", false},
  };
  for (auto& f : name_constraint_flags()) s.flags.push_back(f);
  return s;
}

Status write(const fs::path& path, std::string_view content, perms mode) {
  auto s = common::write_file_atomic(path, content, mode);
  if (s) std::cerr << "wrote " << path.string() << "\n";
  return s;
}

struct Output {
  fs::path path;
  std::string_view content;
  perms mode;
};

// write_all writes the files in order and stops at the first failure.
Status write_all(std::initializer_list<Output> outputs) {
  for (const auto& o : outputs) {
    if (auto s = write(o.path, o.content, o.mode); !s) return s;
  }
  return ok();
}

Result<crypto::Certificate> make_root(EVP_PKEY* key, const std::string& name, std::chrono::seconds lifetime) {
  crypto::CertificateBuilder b;
  const auto now = std::chrono::system_clock::now();
  for (auto s : {b.set_random_serial(), b.set_self_issued(), b.set_subject_common_name(name + " Root CA", name),
                 b.set_validity(now - std::chrono::minutes(1), now + lifetime), b.set_public_key(key),
                 b.add_basic_constraints(true, 1), b.add_key_usage(KU_KEY_CERT_SIGN | KU_CRL_SIGN)}) {
    if (!s) return tl::unexpected(s.error());
  }
  return b.sign(key);
}

Result<std::string> make_csr(EVP_PKEY* key, const std::string& name) {
  crypto::X509ReqPtr req(X509_REQ_new());
  crypto::X509NamePtr subject(X509_NAME_new());
  const std::string cn = name + " Intermediate CA";
  X509_NAME_add_entry_by_NID(subject.get(), NID_organizationName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  if (X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1) {
    return fail(Errc::invalid_argument, "--name is too long for a certificate subject");
  }
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_subject_name(req.get(), subject.get());
  X509_REQ_set_pubkey(req.get(), key);
  if (X509_REQ_sign(req.get(), key, crypto::signature_digest(key)) <= 0) {
    return fail(Errc::internal, "cannot sign the intermediate CSR");
  }
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string config_yaml(const Args& args, const std::vector<std::string>& dns, const std::string& provisioner,
                        const jose::Jwk& jwk, const std::string& encrypted_key) {
  std::string names;
  for (const auto& d : dns) names += (names.empty() ? "" : ", ") + yaml_quote(d);
  std::string out =
      "# Keystep standalone CA configuration, written by `keystep init`.\n"
      "# Start it with: keystep serve --config " + fs::path("config/keystep.yaml").string() +
      " [--password-file FILE]\n"
      "address: " + yaml_quote(args.get("address", "127.0.0.1:9000")) + "\n"
      "dnsNames: [" + names + "]\n"
      "logLevel: info\n"
      "ca:\n"
      "  root: ../certs/root_ca.crt\n"
      "  crt: ../certs/intermediate_ca.crt\n"
      "  key: ../secrets/intermediate_ca_key\n"
      "storage:                 # sqlite for one instance; postgres (dsn, passwordFile) for replicas\n"
      "  kind: sqlite\n"
      "  sqlitePath: keystep.db\n"
      "claims:\n"
      "  minDuration: 5m\n"
      "  defaultDuration: 24h\n"
      "  maxDuration: 2160h\n"
      "policy:\n"
      "  allow: {}\n"
      "  deny: {}\n"
      "provisioners:\n"
      "  - name: " + yaml_quote(provisioner) + "\n"
      "    type: JWK\n"
      "    key: " + jwk.public_json().dump() + "\n";
  if (!encrypted_key.empty()) out += "    encryptedKey: " + yaml_quote(encrypted_key) + "\n";
  return out;
}

std::string secret_yaml(const Args& args, const std::string& chain_pem, std::string_view key_pem,
                        const std::string& root_pem) {
  auto b64 = [](std::string_view s) {
    return common::base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  return "# The intermediate CA for Keystep in Kubernetes. It holds the intermediate\n"
         "# chain and key, and the root certificate (never the root key).\n"
         "apiVersion: v1\n"
         "kind: Secret\n"
         "metadata:\n"
         "  name: " + args.get("secret-name", "keystep-intermediate") + "\n"
         "  namespace: " + args.get("secret-namespace", "keystep") + "\n"
         "type: kubernetes.io/tls\n"
         "data:\n"
         "  tls.crt: " + b64(chain_pem) + "\n"
         "  tls.key: " + b64(key_pem) + "\n"
         "  ca.crt: " + b64(root_pem) + "\n";
}

// ProvisionerFiles is the JWK made for the provisioner: its private key
// file content and the encryptedKey to serve (empty without a password).
struct ProvisionerFiles {
  jose::Jwk jwk;
  std::string private_file;
  std::string encrypted_key;
};

Result<ProvisionerFiles> make_provisioner(const crypto::SecretBytes* password) {
  auto jwk = jose::Jwk::generate("EC", 0, "P-256");
  if (!jwk) return tl::unexpected(jwk.error());
  auto priv = jwk->private_json();
  if (!priv) return tl::unexpected(priv.error());
  std::string plain = priv->dump();
  ProvisionerFiles files{std::move(*jwk), "", ""};
  if (password != nullptr) {
    auto jwe = jose::encrypt_pbes2(plain, password->view());
    OPENSSL_cleanse(plain.data(), plain.size());
    if (!jwe) return tl::unexpected(jwe.error());
    files.private_file = *jwe + "\n";
    files.encrypted_key = *jwe;
  } else {
    files.private_file = priv->dump(2) + "\n";
    OPENSSL_cleanse(plain.data(), plain.size());
  }
  return files;
}

int run(const Args& args) {
  auto name = args.required("name");
  if (!name) return usage_error(spec(), name.error().message);
  auto out = args.required("out");
  if (!out) return usage_error(spec(), out.error().message);
  auto dns = args.all("dns");
  if (dns.empty()) return usage_error(spec(), "flag --dns is required");
  if (args.has("password-file") == args.has("no-password")) {
    return usage_error(spec(), "give exactly one of --password-file FILE and --no-password");
  }
  std::optional<crypto::SecretBytes> password;
  if (args.has("password-file")) {
    auto pw = crypto::read_password_file(args.get("password-file"));
    if (!pw) return fail_with(pw.error().message);
    password = std::move(*pw);
  }
  const crypto::SecretBytes* pw = password ? &*password : nullptr;
  const std::string provisioner = args.get("provisioner", "admin");
  if (provisioner.empty() || provisioner.find_first_of("/\\ ") != std::string::npos) {
    return usage_error(spec(), "flag --provisioner: \"" + provisioner + "\" must be a non-empty name without spaces or slashes");
  }
  auto key_spec = crypto::parse_key_spec(args.get("kty"), args.get("crv"), args.get_int("size", 0).value_or(-1));
  if (!key_spec) return usage_error(spec(), key_spec.error().message);
  auto root_life = parse_ca_lifetime("root-duration", args.get("root-duration", "10y"));
  if (!root_life) return usage_error(spec(), root_life.error().message);
  auto inter_life = parse_ca_lifetime("intermediate-duration", args.get("intermediate-duration", "5y"));
  if (!inter_life) return usage_error(spec(), inter_life.error().message);
  const bool csr_only = args.has("intermediate-csr-only");
  const bool adopt = args.has("root-cert") || args.has("intermediate-cert") || args.has("intermediate-key");
  if (adopt && !(args.has("root-cert") && args.has("intermediate-cert") && args.has("intermediate-key"))) {
    return usage_error(spec(), "adopting a PKI needs all of --root-cert, --intermediate-cert and --intermediate-key");
  }
  if (adopt && csr_only) return usage_error(spec(), "--intermediate-csr-only cannot be combined with --root-cert");

  PkiLayout layout{fs::path(*out)};
  if (!args.has("force") && (fs::exists(layout.config()) || fs::exists(layout.intermediate_key()))) {
    return fail_with(layout.dir.string() + " already holds a PKI; use --force to overwrite it");
  }
  std::error_code ec;
  for (auto [sub, mode] : {std::pair{"certs", perms::owner_all | perms::group_read | perms::group_exec |
                                                   perms::others_read | perms::others_exec},
                           std::pair{"secrets", perms::owner_all}, std::pair{"config", perms::owner_all},
                           std::pair{"kubernetes", perms::owner_all}}) {
    fs::create_directories(layout.dir / sub, ec);
    if (ec) return fail_with("cannot create " + (layout.dir / sub).string() + ": " + ec.message());
    fs::permissions(layout.dir / sub, mode, ec);
  }

  auto provisioner_files = make_provisioner(pw);
  if (!provisioner_files) return fail_with(provisioner_files.error().message);

  std::string root_pem, chain_pem;
  crypto::SecretBytes secret_key_pem;  // the intermediate key, unencrypted, for the Secret
  if (adopt) {
    auto root = common::read_file(args.get("root-cert"));
    auto chain = common::read_file(args.get("intermediate-cert"));
    auto key = common::read_file(args.get("intermediate-key"));
    for (const auto* r : {&root, &chain, &key}) {
      if (!*r) return fail_with(r->error().message);
    }
    auto ca = signing::CertificateAuthority::load({*chain, *key, *root, pw}, std::chrono::system_clock::now());
    if (!ca) return fail_with("cannot adopt the PKI: " + ca.error().message);
    root_pem = crypto::chain_to_pem((*ca)->roots());
    chain_pem = crypto::chain_to_pem((*ca)->chain());
    auto plain = crypto::private_key_to_pem((*ca)->key());
    if (!plain) return fail_with(plain.error().message);
    secret_key_pem = std::move(*plain);
    if (auto s = check_serves_names(chain_pem, secret_key_pem.view(), root_pem, dns); !s) {
      return fail_with(s.error().message);
    }
    if (auto s = write_all({{layout.root_cert(), root_pem, kPublic},
                            {layout.intermediate_cert(), chain_pem, kPublic},
                            {layout.intermediate_key(), *key, kPrivate}});
        !s) {
      return fail_with(s.error().message);
    }
  } else {
    auto inter_key = crypto::generate_key(*key_spec);
    if (!inter_key) return fail_with(inter_key.error().message);
    auto inter_key_pem = crypto::private_key_to_pem(inter_key->get(), pw);
    if (!inter_key_pem) return fail_with(inter_key_pem.error().message);
    if (csr_only) {
      auto csr = make_csr(inter_key->get(), *name);
      if (!csr) return fail_with(csr.error().message);
      if (auto s = write(layout.intermediate_key(), inter_key_pem->view(), kPrivate); !s) return fail_with(s.error().message);
      if (auto s = write(layout.intermediate_csr(), *csr, kPublic); !s) return fail_with(s.error().message);
    } else {
      auto root_key = crypto::generate_key(*key_spec);
      if (!root_key) return fail_with(root_key.error().message);
      auto root = make_root(root_key->get(), *name, *root_life);
      if (!root) return fail_with(root.error().message);
      crypto::X509NamePtr subject(X509_NAME_new());
      X509_NAME_add_entry_by_NID(subject.get(), NID_organizationName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(name->c_str()), -1, -1, 0);
      const std::string cn = *name + " Intermediate CA";
      X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
      const auto now = std::chrono::system_clock::now();
      auto inter = sign_intermediate({subject.get(), inter_key->get(), now - std::chrono::minutes(1), now + *inter_life,
                                      name_constraints_from(args)},
                                     *root, root_key->get());
      if (!inter) return fail_with(inter.error().message);
      auto root_key_pem = crypto::private_key_to_pem(root_key->get(), pw);
      if (!root_key_pem) return fail_with(root_key_pem.error().message);
      root_pem = root->pem();
      chain_pem = inter->pem();
      auto plain = crypto::private_key_to_pem(inter_key->get());
      if (!plain) return fail_with(plain.error().message);
      secret_key_pem = std::move(*plain);
      if (auto s = check_serves_names(chain_pem, secret_key_pem.view(), root_pem, dns); !s) {
        return fail_with(s.error().message);
      }
      if (auto s = write_all({{layout.root_cert(), root_pem, kPublic},
                              {layout.root_key(), root_key_pem->view(), kPrivate},
                              {layout.intermediate_cert(), chain_pem, kPublic},
                              {layout.intermediate_key(), inter_key_pem->view(), kPrivate}});
          !s) {
        return fail_with(s.error().message);
      }
    }
  }

  if (auto s = write(layout.provisioner_key(provisioner), provisioner_files->private_file, kPrivate); !s) {
    return fail_with(s.error().message);
  }
  auto config = config_yaml(args, dns, provisioner, provisioner_files->jwk, provisioner_files->encrypted_key);
  if (auto s = write(layout.config(), config, kPrivate); !s) return fail_with(s.error().message);

  if (csr_only) {
    std::cout << "The intermediate key and its CSR are ready. On the offline machine that holds the root, run:\n"
              << "  keystep ca sign-intermediate " << layout.intermediate_csr().string() << " "
              << layout.intermediate_cert().string()
              << " --root-cert root_ca.crt --root-key root_ca_key --password-file FILE\n"
              << "then adopt the signed intermediate here; this writes the server config and the Secret manifest:\n"
              << "  keystep init --name NAME --dns NAMES --password-file FILE --root-cert root_ca.crt \\\n"
              << "    --intermediate-cert " << layout.intermediate_cert().string() << " --intermediate-key "
              << layout.intermediate_key().string() << " --out DIR\n";
    return 0;
  }
  if (auto s = write(layout.secret_manifest(), secret_yaml(args, chain_pem, secret_key_pem.view(), root_pem), kPrivate); !s) {
    return fail_with(s.error().message);
  }
  auto root = crypto::Certificate::from_pem(root_pem);
  if (!root) return fail_with(root.error().message);
  std::cout << "Root fingerprint: " << root->sha256_hex() << "\n"
            << "Provisioner: " << provisioner << " (JWK, key id " << provisioner_files->jwk.kid() << ")\n"
            << "Start the CA:   keystep serve --config " << layout.config().string()
            << (pw ? " --password-file FILE" : "") << "\n"
            << "In Kubernetes:  kubectl apply -f " << layout.secret_manifest().string() << "\n";
  if (!adopt) std::cout << "Keep " << layout.root_key().string() << " offline; the CA never needs it.\n";
  return 0;
}

}  // namespace

Command init_command() { return {spec(), run}; }

}  // namespace keystep::cli
