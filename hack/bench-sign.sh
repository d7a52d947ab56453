#!/usr/bin/env bash
# bench-sign.sh measures POST /1.0/sign on a fresh standalone CA: throughput,
# p50/p99 latency and server CPU per certificate at 1, 8 and 32 concurrent
# clients, the server's RSS, and `openssl speed` for the same algorithms so
# the CPU figure can be read against the crypto floor (one P-256 sign and
# two P-256 verifies per certificate). Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
./hack/build.sh keystep >/dev/null
bin=$(pwd)/build/keystep
requests=${BENCH_REQUESTS:-3000}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" init --name Bench --dns 127.0.0.1 --no-password --out "$work/pki" >/dev/null 2>&1
sed -i 's/logLevel: info/logLevel: warn/' "$work/pki/config/keystep.yaml"
"$bin" serve --config "$work/pki/config/keystep.yaml" --address 127.0.0.1:0 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*server listening address=127.0.0.1:\([0-9]*\).*/\1/p' "$work/log")
  [ -n "$port" ] && break
  sleep 0.05
done
# The listening line is logged at info; with logLevel warn, find the port from the socket instead.
if [ -z "${port:-}" ]; then
  port=$(ss -Htlnp 2>/dev/null | sed -n "s/.*127.0.0.1:\([0-9]*\).*pid=$pid,.*/\1/p" | head -n1)
fi
[ -n "$port" ] || { echo "bench: server did not start" >&2; cat "$work/log" >&2; exit 1; }
echo "server pid=$pid port=$port idle_rss_kib=$(awk '/VmRSS/{print $2}' /proc/$pid/status)"

for c in 1 8 32; do
  "$bin" bench sign --ca-url "https://127.0.0.1:$port" --root "$work/pki/certs/root_ca.crt" \
    --provisioner admin --provisioner-key "$work/pki/secrets/admin.jwk" \
    --concurrency "$c" --requests "$requests" --server-pid "$pid"
done

echo "openssl speed (crypto floor per certificate = 1 sign + 2 verifies):"
openssl speed -seconds 2 ecdsap256 2>/dev/null | tail -n 1
