#include "issuer/policy/key_usages.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

using namespace keystep;
using keystep::policy::KeyUsages;
using keystep::policy::parse_key_usages;

TEST_CASE("parse_key_usages gives cert-manager's default for an empty list", "[policy]") {
  auto u = parse_key_usages({});
  REQUIRE(u);
  CHECK(u->key_usage == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(u->ext_key_usage.empty());
}

TEST_CASE("parse_key_usages maps every keyUsage string to its bit", "[policy]") {
  struct Case {
    const char* name;
    int bit;
  };
  for (auto [name, bit] : {Case{"signing", KU_DIGITAL_SIGNATURE}, Case{"digital signature", KU_DIGITAL_SIGNATURE},
                           Case{"content commitment", KU_NON_REPUDIATION},
                           Case{"key encipherment", KU_KEY_ENCIPHERMENT}, Case{"key agreement", KU_KEY_AGREEMENT},
                           Case{"data encipherment", KU_DATA_ENCIPHERMENT}, Case{"cert sign", KU_KEY_CERT_SIGN},
                           Case{"crl sign", KU_CRL_SIGN}, Case{"encipher only", KU_ENCIPHER_ONLY},
                           Case{"decipher only", KU_DECIPHER_ONLY}}) {
    INFO(name);
    auto u = parse_key_usages({name});
    REQUIRE(u);
    CHECK(u->key_usage == bit);
    CHECK(u->ext_key_usage.empty());
  }
}

TEST_CASE("parse_key_usages maps every extKeyUsage string to its purpose", "[policy]") {
  struct Case {
    const char* name;
    int nid;
  };
  for (auto [name, nid] :
       {Case{"any", NID_anyExtendedKeyUsage}, Case{"server auth", NID_server_auth},
        Case{"client auth", NID_client_auth}, Case{"code signing", NID_code_sign},
        Case{"email protection", NID_email_protect}, Case{"s/mime", NID_email_protect},
        Case{"ipsec end system", NID_ipsecEndSystem}, Case{"ipsec tunnel", NID_ipsecTunnel},
        Case{"ipsec user", NID_ipsecUser}, Case{"timestamping", NID_time_stamp}, Case{"ocsp signing", NID_OCSP_sign},
        Case{"microsoft sgc", NID_ms_sgc}, Case{"netscape sgc", NID_ns_sgc}}) {
    INFO(name);
    auto u = parse_key_usages({name});
    REQUIRE(u);
    CHECK(u->key_usage == 0);
    CHECK(u->ext_key_usage == std::vector<int>{nid});
  }
}

TEST_CASE("parse_key_usages combines usages, keeps order and drops duplicates", "[policy]") {
  auto u = parse_key_usages({"Digital Signature", "client auth", "server auth", "signing", "CLIENT AUTH"});
  REQUIRE(u);
  CHECK(u->key_usage == KU_DIGITAL_SIGNATURE);
  CHECK(u->ext_key_usage == std::vector<int>{NID_client_auth, NID_server_auth});
}

TEST_CASE("parse_key_usages names an unknown usage", "[policy]") {
  auto u = parse_key_usages({"server auth", "world domination"});
  REQUIRE_FALSE(u);
  CHECK(u.error().code == Errc::invalid_argument);
  CHECK_THAT(u.error().message, Catch::Contains("\"world domination\""));
}
