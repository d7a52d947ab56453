// tls-alpn-01 (RFC 8737; RFC 8738 for IP identifiers): a TLS handshake
// offering only ALPN "acme-tls/1", then a look at the self-presented
// certificate: its only SAN is the identifier and its critical
// acmeIdentifier extension holds SHA-256 of the key authorization.

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "issuer/acme/challenge_checks.h"
#include "issuer/acme/key_authorization.h"
#include "issuer/crypto/openssl_error.h"
#include "issuer/crypto/openssl_ptr.h"
#include "issuer/http/tls_context.h"

namespace keystep::acme::detail {
namespace {

using common::FreeWith;
using SslPtr = std::unique_ptr<SSL, FreeWith<SSL_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, FreeWith<ASN1_OBJECT_free>>;

constexpr std::string_view kAcmeTls1 = "acme-tls/1";
// kAlpnProtos is the ALPN list on the wire: a length byte, then the name.
constexpr unsigned char kAlpnProtos[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
constexpr char kAcmeIdentifierOid[] = "1.3.6.1.5.5.7.1.31";
constexpr std::size_t kMaxListedNames = 5;

// reverse_dns_name is the in-addr.arpa or ip6.arpa name of an IP literal
// (RFC 8738 §6: the SNI of a tls-alpn-01 request for an IP identifier).
std::string reverse_dns_name(const std::string& ip) {
  unsigned char bytes[16];
  std::string out;
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(bytes[i]) + ".";
    return out + "in-addr.arpa";
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes[i] & 0x0f];
    out += '.';
    out += kHex[bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string general_name_text(const GENERAL_NAME* name) {
  if (name->type == GEN_DNS) {
    const ASN1_STRING* s = name->d.dNSName;  // borrowed
    return "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  if (name->type == GEN_IPADD) {
    const ASN1_OCTET_STRING* s = name->d.iPAddress;  // borrowed
    char text[INET6_ADDRSTRLEN] = "?";
    const int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
    if (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16) {
      inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text);
    }
    return std::string("IP:") + text;
  }
  return "other name type " + std::to_string(name->type);
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; };
    if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool is_identifier(const GENERAL_NAME* name, const ChallengeTarget& target) {
  if (target.identifier_type == "ip") {
    if (name->type != GEN_IPADD) return false;
    unsigned char bytes[16];
    int size = 0;
    if (inet_pton(AF_INET, target.identifier.c_str(), bytes) == 1) {
      size = 4;
    } else if (inet_pton(AF_INET6, target.identifier.c_str(), bytes) == 1) {
      size = 16;
    }
    const ASN1_OCTET_STRING* s = name->d.iPAddress;  // borrowed
    return size != 0 && ASN1_STRING_length(s) == size &&
           std::memcmp(ASN1_STRING_get0_data(s), bytes, static_cast<std::size_t>(size)) == 0;
  }
  if (name->type != GEN_DNS) return false;
  const ASN1_STRING* s = name->d.dNSName;  // borrowed
  return iequals_ascii(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<std::size_t>(ASN1_STRING_length(s))),
                       target.identifier);
}

// Handshake runs SSL_connect over memory BIOs and moves the bytes itself,
// with send(MSG_NOSIGNAL): a server that resets the connection is an error
// here, not a SIGPIPE for the whole process. Socket failures and timeouts
// are unavailable (a connection problem), TLS failures permission_denied.
class Handshake {
 public:
  Handshake(SSL* ssl, int fd, const std::string& where, std::chrono::seconds timeout,
            Deadline deadline)
      : ssl_(ssl), fd_(fd), where_(where), timeout_(timeout), deadline_(deadline) {}

  [[nodiscard]] Status run() {
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      return fail(Errc::internal, "tls client setup failed (out of memory)");
    }
    BIO_set_mem_eof_return(in, -1);  // empty means "wait for more", not EOF
    SSL_set_bio(ssl_, in, out);      // ssl owns both now
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_connect(ssl_);
      const int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
      if (auto sent = flush(out); !sent) return sent;
      if (rc == 1) return ok();
      if (error != SSL_ERROR_WANT_READ) {
        const std::string reason = crypto::drain_openssl_errors();
        return fail(Errc::permission_denied, "tls handshake with " + where_ + " failed: " +
                                                 (reason.empty() ? "protocol error" : reason));
      }
      if (auto got = receive(in); !got) return got;
    }
  }

 private:
  Error timed_out() const {
    return {Errc::unavailable,
            "tls handshake with " + where_ + ": timed out after " + seconds_text(timeout_)};
  }
  Error socket_error(int error) const {
    return {Errc::unavailable,
            "tls handshake with " + where_ + ": " + sentence_case(std::strerror(error))};
  }

  Status flush(BIO* out) {
    char buf[16384];
    for (;;) {
      const int n = BIO_read(out, buf, sizeof buf);
      if (n <= 0) return ok();
      for (int at = 0; at < n;) {
        const ssize_t sent = ::send(fd_, buf + at, static_cast<std::size_t>(n - at), MSG_NOSIGNAL);
        if (sent > 0) {
          at += static_cast<int>(sent);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          if (!wait_ready(fd_, POLLOUT, deadline_)) return tl::unexpected(timed_out());
        } else {
          return tl::unexpected(socket_error(errno));
        }
      }
    }
  }

  Status receive(BIO* in) {
    char buf[16384];
    for (;;) {
      const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got > 0) {
        BIO_write(in, buf, static_cast<int>(got));
        return ok();
      }
      if (got == 0) {
        return fail(Errc::permission_denied,
                    "tls handshake with " + where_ + " failed: connection closed by the server");
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return tl::unexpected(socket_error(errno));
      }
      if (!wait_ready(fd_, POLLIN, deadline_)) return tl::unexpected(timed_out());
    }
  }

  SSL* ssl_;  // borrowed
  int fd_;
  const std::string& where_;
  std::chrono::seconds timeout_;
  Deadline deadline_;
};

std::optional<Problem> check_certificate(X509* cert, const std::string& where,
                                         const ChallengeTarget& target) {
  const std::string expected =
      (target.identifier_type == "ip" ? "IP:" : "DNS:") + target.identifier;
  int crit = 0;
  crypto::GeneralNameStackPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  ERR_clear_error();  // a missing or duplicated extension queues nothing useful
  const int count = sans ? sk_GENERAL_NAME_num(sans.get()) : 0;
  if (count != 1 || !is_identifier(sk_GENERAL_NAME_value(sans.get(), 0), target)) {
    std::string names;
    for (int i = 0; i < count && i < static_cast<int>(kMaxListedNames); ++i) {
      names += (i == 0 ? "" : ", ") + general_name_text(sk_GENERAL_NAME_value(sans.get(), i));
    }
    if (count > static_cast<int>(kMaxListedNames)) {
      names += " and " + std::to_string(count - static_cast<int>(kMaxListedNames)) + " more";
    }
    return unauthorized(where + " presented a certificate for " +
                        (count == 0 ? "no subjectAltName" : "[" + names + "]") +
                        ", expected only " + expected);
  }

  Asn1ObjectPtr oid(OBJ_txt2obj(kAcmeIdentifierOid, 1));
  if (!oid) return server_internal("cannot make the acmeIdentifier OID");
  const int index = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (index < 0) {
    return incorrect_response(where +
                              " presented a certificate without the acmeIdentifier extension");
  }
  if (X509_get_ext_by_OBJ(cert, oid.get(), index) >= 0) {
    return incorrect_response(where +
                              " presented a certificate with two acmeIdentifier extensions");
  }
  X509_EXTENSION* ext = X509_get_ext(cert, index);  // borrowed
  if (X509_EXTENSION_get_critical(ext) != 1) {
    return incorrect_response(where + ": the acmeIdentifier extension is not critical");
  }
  // The extnValue holds the DER of an OCTET STRING of the 32-byte digest.
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);  // borrowed
  const unsigned char* der = ASN1_STRING_get0_data(value);
  const long der_length = ASN1_STRING_length(value);
  const unsigned char* p = der;
  crypto::Asn1OctetStringPtr digest(d2i_ASN1_OCTET_STRING(nullptr, &p, der_length));
  ERR_clear_error();
  const auto want = tls_alpn01_digest(target.key_authorization);
  if (!digest || p != der + der_length || ASN1_STRING_length(digest.get()) != 32 ||
      CRYPTO_memcmp(ASN1_STRING_get0_data(digest.get()), want.data(), want.size()) != 0) {
    return incorrect_response(
        where + ": the acmeIdentifier extension does not match the key authorization");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Problem> check_tls_alpn01(const ValidationOptions& options,
                                        const ChallengeTarget& target) {
  const Deadline deadline = std::chrono::steady_clock::now() + options.timeout;
  const std::string where = host_port(target.identifier, options.tls_alpn01_port);
  const bool is_ip = target.identifier_type == "ip";
  const std::string sni = is_ip ? reverse_dns_name(target.identifier) : target.identifier;

  auto socket =
      tcp_connect(target.identifier, options.tls_alpn01_port, is_ip, deadline, options.timeout);
  if (!socket) return connection(socket.error().message);

  // TLS 1.2 and 1.3, no verification: the certificate is self-made by design.
  auto ctx = http::make_client_tls_context("", true, std::nullopt);
  if (!ctx) return server_internal("tls client context: " + ctx.error().message);
  SslPtr ssl(SSL_new(ctx->get()));
  if (!ssl || SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1 ||
      SSL_set_alpn_protos(ssl.get(), kAlpnProtos, sizeof kAlpnProtos) != 0) {
    return server_internal("tls client setup failed (" + crypto::drain_openssl_errors() + ")");
  }
  Handshake handshake(ssl.get(), socket->get(), where, options.timeout, deadline);
  if (auto shaken = handshake.run(); !shaken) {
    return shaken.error().code == Errc::unavailable ? connection(shaken.error().message)
                                                    : tls(shaken.error().message);
  }

  const unsigned char* selected = nullptr;  // borrowed from ssl
  unsigned selected_length = 0;
  SSL_get0_alpn_selected(ssl.get(), &selected, &selected_length);
  if (std::string_view(reinterpret_cast<const char*>(selected), selected_length) != kAcmeTls1) {
    return tls(where + " did not negotiate acme-tls/1");
  }
  crypto::X509Ptr cert(SSL_get1_peer_certificate(ssl.get()));
  if (!cert) return tls(where + " presented no certificate");
  return check_certificate(cert.get(), where, target);
}

}  // namespace keystep::acme::detail
