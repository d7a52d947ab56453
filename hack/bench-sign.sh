#!/usr/bin/env bash
# bench-sign.sh measures POST /1.0/sign on a fresh standalone CA, first on
# SQLite and then on PostgreSQL: throughput, p50/p99 latency and server CPU
# per certificate at 1, 8 and 32 concurrent clients, and the server's RSS.
# It ends with `openssl speed` for the same algorithm so the CPU figure can
# be read against the crypto floor (one P-256 sign and two P-256 verifies
# per certificate). Everything runs on 127.0.0.1.
#   BENCH_REQUESTS=3000 ./hack/bench-sign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
./hack/build.sh keystep >/dev/null
bin=$(realpath "${KEYSTEP_BUILD_DIR:-build}")/keystep
requests=${BENCH_REQUESTS:-3000}
source hack/lib/bench-postgres.sh
work=$(mktemp -d)
chmod 755 "$work"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  bench_postgres_stop || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" init --name Bench --dns 127.0.0.1 --no-password --out "$work/pki" >/dev/null 2>&1
sed -i 's/logLevel: info/logLevel: warn/' "$work/pki/config/keystep.yaml"

# run_bench BACKEND: start keystep serve, run the three loads, stop it.
run_bench() {
  local backend=$1
  "$bin" serve --config "$work/pki/config/keystep.yaml" --address 127.0.0.1:0 >"$work/$backend.log" 2>&1 &
  pid=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(ss -Htlnp 2>/dev/null | sed -n "s/.*127.0.0.1:\([0-9]*\) .*pid=$pid,.*/\1/p" | head -n1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "bench: server did not start" >&2; cat "$work/$backend.log" >&2; exit 1; }
  echo "== $backend: pid=$pid idle_rss_kib=$(awk '/VmRSS/{print $2}' /proc/$pid/status)"
  for c in 1 8 32; do
    "$bin" bench sign --ca-url "https://127.0.0.1:$port" --root "$work/pki/certs/root_ca.crt" \
      --provisioner admin --provisioner-key "$work/pki/secrets/admin.jwk" \
      --concurrency "$c" --requests "$requests" --server-pid "$pid"
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

run_bench sqlite

bench_postgres_start
bench_postgres_use "$work/pki/config/keystep.yaml"
run_bench postgres

echo "== openssl speed (crypto floor per certificate = 1 sign + 2 verifies):"
openssl speed -seconds 2 ecdsap256 2>/dev/null | tail -n 1
