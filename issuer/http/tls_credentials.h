#pragma once
// TlsCredentials is a TLS identity in PEM: what a server presents, or what
// a client presents for mutual TLS.

#include <string>

namespace keystep::http {

struct TlsCredentials {
  std::string chain_pem;  // leaf first, then intermediates; no root
  std::string key_pem;    // unencrypted private key of the leaf (PKCS#8, SEC1 or PKCS#1)
};

}  // namespace keystep::http
