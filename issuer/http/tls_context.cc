#include "issuer/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "issuer/crypto/openssl_error.h"

namespace keystep::http {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;
using crypto::openssl_error;
using crypto::SslCtxPtr;
using crypto::X509Ptr;

// TLS 1.2 suites; TLS 1.3 keeps OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Refuse to prompt on a terminal for the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) { return 0; }

BioPtr memory_bio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

Result<SslCtxPtr> new_context(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return openssl_error(Errc::internal, "creating tls context");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    return openssl_error(Errc::internal, "configuring tls context");
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  return ctx;
}

Status use_credentials(SSL_CTX* ctx, const TlsCredentials& creds) {
  auto chain = parse_pem_certificates(creds.chain_pem);
  if (!chain) return tl::unexpected(with_context(chain.error(), "tls certificate chain"));
  if (SSL_CTX_use_certificate(ctx, chain->front().get()) != 1) {
    return openssl_error(Errc::invalid_argument, "tls certificate is not usable");
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) != 1) {
      return openssl_error(Errc::invalid_argument, "tls intermediate is not usable");
    }
  }
  BioPtr bio = memory_bio(creds.key_pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    return openssl_error(Errc::invalid_argument, "tls key is not an unencrypted PEM private key");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_error(Errc::invalid_argument, "tls key does not match the certificate");
  }
  return ok();
}

Status trust(SSL_CTX* ctx, std::string_view pem, bool advertise_to_clients) {
  auto certs = parse_pem_certificates(pem);
  if (!certs) return tl::unexpected(certs.error());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);  // borrowed
  for (const X509Ptr& cert : *certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return openssl_error(Errc::invalid_argument, "adding a trusted certificate");
      }
      ERR_clear_error();  // a duplicate is harmless
    }
    if (advertise_to_clients && SSL_CTX_add_client_CA(ctx, cert.get()) != 1) {
      return openssl_error(Errc::invalid_argument, "adding a client CA name");
    }
  }
  SSL_CTX_set_verify_depth(ctx, kMaxVerifyDepth);
  return ok();
}

}  // namespace

Result<std::vector<X509Ptr>> parse_pem_certificates(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  if (!bio) return openssl_error(Errc::internal, "allocating a memory bio");
  std::vector<X509Ptr> out;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) break;
    if (out.size() == kMaxPemCertificates) {
      return fail(Errc::invalid_argument, "more than " + std::to_string(kMaxPemCertificates) +
                                              " certificates in one PEM bundle");
    }
    out.push_back(std::move(cert));
  }
  // The loop ends at "no start line" after the last block; anything else
  // means a block that does not parse.
  unsigned long e = ERR_peek_last_error();
  if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    return openssl_error(Errc::invalid_argument, "malformed PEM certificate");
  }
  ERR_clear_error();
  if (out.empty()) return fail(Errc::invalid_argument, "no PEM certificate found");
  return out;
}

Result<SslCtxPtr> make_server_tls_context(const TlsCredentials& creds,
                                          std::string_view client_ca_pem) {
  auto ctx = new_context(TLS_server_method());
  if (!ctx) return ctx;
  SSL_CTX* c = ctx->get();
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumed sessions must carry a context id once peers are verified.
  static constexpr unsigned char kSessionIdContext[] = "keystep";
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  if (auto used = use_credentials(c, creds); !used) return tl::unexpected(used.error());
  if (!client_ca_pem.empty()) {
    // Any listed CA may anchor a client chain (roots and intermediates, as
    // step-ca's pool): a client that sends only its leaf still verifies.
    X509_STORE_set_flags(SSL_CTX_get_cert_store(c), X509_V_FLAG_PARTIAL_CHAIN);
    if (auto trusted = trust(c, client_ca_pem, true); !trusted) {
      return tl::unexpected(with_context(trusted.error(), "client CAs"));
    }
    // VerifyClientCertIfGiven: no FAIL_IF_NO_PEER_CERT.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

Result<SslCtxPtr> make_client_tls_context(std::string_view root_pem, bool insecure,
                                          const std::optional<TlsCredentials>& identity) {
  auto ctx = new_context(TLS_client_method());
  if (!ctx) return ctx;
  SSL_CTX* c = ctx->get();
  if (insecure) {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  } else {
    if (auto trusted = trust(c, root_pem, false); !trusted) {
      return tl::unexpected(with_context(trusted.error(), "root certificates"));
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  }
  if (identity) {
    if (auto used = use_credentials(c, *identity); !used) {
      return tl::unexpected(with_context(used.error(), "client identity"));
    }
  }
  return ctx;
}

std::vector<std::string> peer_chain_der(const SSL* ssl) {
  std::vector<std::string> out;
  X509* leaf = SSL_get0_peer_certificate(ssl);  // borrowed
  if (leaf == nullptr) return out;
  auto append = [&out](X509* cert) {
    int len = i2d_X509(cert, nullptr);
    if (len <= 0) return;
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(cert, &p);
    out.push_back(std::move(der));
  };
  append(leaf);
  // A server's view of the peer chain omits the leaf; a client's includes it.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // borrowed
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    if (i == 0 && X509_cmp(cert, leaf) == 0) continue;
    append(cert);
  }
  return out;
}

}  // namespace keystep::http
