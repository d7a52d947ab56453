// keystep ca crl: download the CA's certificate revocation list from
// /1.0/crl and save it, DER or PEM. Unlike every other client command this
// one may use plain http (--insecure-http), as CRLs are signed by the CA and
// are often published that way.

#include <iostream>

#include "cli/ca_client.h"
#include "cli/commands.h"
#include "cli/crl_summary.h"
#include "cli/output_file.h"
#include "issuer/common/file.h"
#include "issuer/http/url.h"
#include "issuer/policy/time_format.h"

namespace keystep::cli {
namespace {

CommandSpec ca_crl_spec() {
  return {
      .path = "ca crl",
      .usage = "FILE",
      .summary = "Download the CA's certificate revocation list",
      .description =
          "Fetches the CA's current CRL from /1.0/crl and saves it in FILE, DER-encoded or, with --pem,\n"
          "PEM-encoded, then prints its CRL number, how many revoked certificates it lists and when it\n"
          "is next updated. Over https the CA is verified with --root. A CRL is signed by the CA, so it\n"
          "may also come over plain http from the CA's insecure address: give an http:// --ca-url and\n"
          "--insecure-http. The CRL's signature is not checked here.\n"
          "\n"
          "Example:\n"
          "  keystep ca crl ca.crl --ca-url https://ca.internal:9000 --root root_ca.crt\n"
          "\n"
          "From the CA's plain-http address, as PEM:\n"
          "  keystep ca crl ca.crl.pem --pem --ca-url http://ca.internal:9080 --insecure-http --force",
      .flags = {{.name = "ca-url", .help = "URL of the CA, https://HOST[:PORT], or http:// with --insecure-http"},
                root_flag("FILE with the CA's root certificate, to verify the CA (required for https)"),
                {.name = "pem", .help = "fetch and save the CRL PEM-encoded", .takes_value = false},
                {.name = "insecure-http",
                 .help = "allow a plain http:// --ca-url: no TLS, the CRL is trusted for its signature only",
                 .takes_value = false},
                force_flag()},
      .min_positional = 1,
      .max_positional = 1,
  };
}

// read_source checks --ca-url, --root and --insecure-http; errors are usage
// errors. root_file is "" for plain http.
Result<CaFlags> read_source(const Args& args) {
  auto ca_url = args.required("ca-url");
  if (!ca_url) return tl::unexpected(ca_url.error());
  auto url = http::parse_url(*ca_url);
  if (!url) return fail(Errc::invalid_argument, "flag --ca-url: " + url.error().message);
  const bool insecure_http = args.has("insecure-http");
  if (url->is_https()) {
    if (insecure_http) return fail(Errc::invalid_argument, "flag --insecure-http is only for an http:// --ca-url");
    return read_ca_flags(args);
  }
  if (!insecure_http) {
    return fail(Errc::invalid_argument,
                "flag --ca-url: \"" + *ca_url + "\" is plain http: give --insecure-http to fetch the CRL without TLS");
  }
  return CaFlags{.ca_url = *ca_url};
}

int run_ca_crl(const Args& args) {
  const std::string& file = args.positional()[0];
  auto source = read_source(args);
  if (!source) return usage_error(ca_crl_spec(), source.error().message);
  Result<CaClient> client =
      source->root_file.empty() ? Result<CaClient>(CaClient::plain_http(source->ca_url)) : CaClient::verified(*source);
  if (!client) return fail_with(client.error().message);
  const bool is_pem = args.has("pem");
  if (auto free = refuse_overwrite(file, args.has("force")); !free) return fail_with(free.error().message);
  auto body = client->get_body(is_pem ? "/1.0/crl?pem" : "/1.0/crl");
  if (!body) return fail_with(body.error().message);
  auto crl = read_crl(*body, is_pem);
  if (!crl) return fail_with("the CA's answer is not a CRL: " + crl.error().message);
  if (auto written = common::write_file_atomic(file, *body, kPublicFileMode); !written) {
    return fail_with(written.error().message);
  }
  std::cout << "CRL number: " << (crl->number.empty() ? "(none)" : crl->number) << "\n"
            << "Revoked certificates: " << crl->entries << "\n"
            << "This update: " << policy::format_rfc3339(crl->this_update) << "\n"
            << "Next update: " << (crl->next_update ? policy::format_rfc3339(*crl->next_update) : "(none)") << "\n";
  std::cerr << "The CRL has been saved in " << file << ".\n";
  return 0;
}

}  // namespace

Command ca_crl_command() { return {ca_crl_spec(), run_ca_crl}; }

}  // namespace keystep::cli
