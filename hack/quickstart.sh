#!/usr/bin/env bash
# quickstart.sh goes from nothing to a verified certificate: it installs the
# dependencies, builds keystep, runs the ceremony into ./dev-ca, starts the
# CA on 127.0.0.1:9000, issues a demo certificate with `keystep ca
# certificate` and a second one over ACME with lego (http-01 on port
# 8402), and verifies both with openssl. The CA keeps running.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=${KEYSTEP_DEV_DIR:-$repo/dev-ca}
address=${KEYSTEP_ADDRESS:-127.0.0.1:9000}
port=${address##*:}

./hack/install-deps.sh
./hack/build.sh keystep
bin=$(realpath "${KEYSTEP_BUILD_DIR:-build}")/keystep

if [ -f "$dir/keystep.pid" ] && kill -0 "$(cat "$dir/keystep.pid")" 2>/dev/null; then
  echo "quickstart: stopping the CA started earlier (pid $(cat "$dir/keystep.pid"))"
  kill "$(cat "$dir/keystep.pid")"
  sleep 0.5
fi

mkdir -p "$dir"
chmod 700 "$dir"
if [ ! -f "$dir/password.txt" ]; then
  head -c 24 /dev/urandom | base64 > "$dir/password.txt"
  chmod 600 "$dir/password.txt"
fi
if [ ! -f "$dir/pki/config/keystep.yaml" ]; then
  "$bin" init --name "Keystep Dev" --dns localhost,127.0.0.1 --address "$address" \
    --provisioner admin --password-file "$dir/password.txt" --out "$dir/pki"
fi
# An ACME provisioner; http-01 is answered on port 8402 so no root port is needed.
acme_http_port=8402
if ! grep -q "type: ACME" "$dir/pki/config/keystep.yaml"; then
  echo "  - {name: acme, type: ACME, validation: {http01Port: $acme_http_port}}" >>"$dir/pki/config/keystep.yaml"
fi

"$bin" serve --config "$dir/pki/config/keystep.yaml" --password-file "$dir/password.txt" \
  >"$dir/keystep.log" 2>&1 &
echo $! > "$dir/keystep.pid"

ca_url=https://127.0.0.1:$port
for _ in $(seq 1 100); do
  if "$bin" ca health --ca-url "$ca_url" --root "$dir/pki/certs/root_ca.crt" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$dir/keystep.pid")" 2>/dev/null; then
    echo "quickstart: the CA did not start; its log:" >&2
    cat "$dir/keystep.log" >&2
    exit 1
  fi
  sleep 0.1
done

"$bin" ca certificate demo.localhost "$dir/demo.crt" "$dir/demo.key" --force \
  --ca-url "$ca_url" --root "$dir/pki/certs/root_ca.crt" \
  --san demo.localhost --san 127.0.0.1 --not-after 1h \
  --provisioner admin --provisioner-key "$dir/pki/secrets/admin.jwk" --password-file "$dir/password.txt"

openssl verify -CAfile "$dir/pki/certs/root_ca.crt" -untrusted "$dir/pki/certs/intermediate_ca.crt" "$dir/demo.crt"
openssl x509 -in "$dir/demo.crt" -noout -subject -issuer -dates -ext subjectAltName,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier

# The same CA over ACME, with lego as the client (http-01 on loopback).
rm -rf "$dir/lego"
LEGO_CA_CERTIFICATES="$dir/pki/certs/root_ca.crt" lego --server "https://localhost:$port/acme/acme/directory" \
  --email dev@localhost.localdomain --accept-tos --path "$dir/lego" --domains localhost \
  --http --http.port ":$acme_http_port" run >"$dir/lego.log" 2>&1 ||
  { echo "quickstart: lego could not get a certificate over ACME; its log:" >&2; cat "$dir/lego.log" >&2; exit 1; }
openssl verify -CAfile "$dir/pki/certs/root_ca.crt" -untrusted "$dir/lego/certificates/localhost.issuer.crt" \
  "$dir/lego/certificates/localhost.crt"

cat <<MSG

Keystep is running at $ca_url (pid $(cat "$dir/keystep.pid"), log $dir/keystep.log).
  Root certificate:  $dir/pki/certs/root_ca.crt   (fingerprint: $("$bin" certificate fingerprint "$dir/pki/certs/root_ca.crt"))
  Demo certificate:  $dir/demo.crt  and key $dir/demo.key
  ACME directory:    https://localhost:$port/acme/acme/directory   (lego got $dir/lego/certificates/localhost.crt)
  CA files:          $dir/pki   (password in $dir/password.txt)
Stop the CA with:    kill \$(cat $dir/keystep.pid)
MSG
