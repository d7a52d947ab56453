#!/usr/bin/env bash
# acme-xcrypto.sh gets a certificate over ACME with golang.org/x/crypto/acme,
# the library cert-manager's ACME issuer uses: hack/acme-xcrypto/main.go,
# built with Debian's Go and Debian's golang-golang-x-crypto-dev only
# (offline, GOPATH mode).
#
#   hack/acme-xcrypto.sh --directory URL --ca-bundle root.pem \
#       --http01-addr 127.0.0.1:PORT --domains a,b --out chain.pem \
#       [--key-out key.pem] [--replicas 127.0.0.1:A,127.0.0.1:B] [--revoke]
#   hack/acme-xcrypto.sh --help            # all flags
#   hack/acme-xcrypto.sh --build           # only (re)build; prints the binary's path
#
# Each step goes to stderr; a failure exits non-zero with the error.
#
# Missing Debian packages are installed first (as root; nothing happens when
# they are all there). The binary is cached in
# /var/cache/keystep/acme-xcrypto/acme-xcrypto (ACME_XCRYPTO_CACHE overrides
# the directory) and rebuilt only when the sources or the Go toolchain changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool=acme-xcrypto
src="$here/$tool"
cache="${ACME_XCRYPTO_CACHE:-/var/cache/keystep/$tool}"
# Debian packages acme-xcrypto needs, kept out of install-deps.sh on purpose
# (whether they join that list is the lead's call).
packages=(
  golang-go                    # Go toolchain (1.19 on Debian 12)
  golang-golang-x-crypto-dev   # golang.org/x/crypto/acme, cert-manager's ACME client
)

# shellcheck source=lib/go-tool.sh
source "$here/lib/go-tool.sh"

install_missing
case "${1:-}" in
  --build)
    ensure_built
    echo "$bin"
    ;;
  *)
    ensure_built
    exec "$bin" "$@"
    ;;
esac
