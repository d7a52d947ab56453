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
pg_bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
chmod 755 "$work"
pid=""
pg_started=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pg_started" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
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

# PostgreSQL 15 as the unprivileged postgres user, on a free loopback port.
mkdir -p "$work/pg"
chown postgres "$work/pg"
head -c 18 /dev/urandom | base64 > "$work/pg.pw"
chown postgres "$work/pg.pw"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=scram-sha-256 --pwfile="$work/pg.pw" >/dev/null
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $work/pg" start >/dev/null
pg_started=1
PGPASSWORD=$(cat "$work/pg.pw") psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -c "CREATE DATABASE keystep" >/dev/null
python3 - "$work/pki/config/keystep.yaml" "$pg_port" "$work/pg.pw" <<'PY'
import re, sys
path, port, pw = sys.argv[1:]
text = open(path).read()
text = re.sub(r"storage:.*?\n(  .*\n)*", "", text)
text += f"storage: {{kind: postgres, dsn: \"host=127.0.0.1 port={port} dbname=keystep user=postgres\", passwordFile: {pw}}}\n"
open(path, "w").write(text)
PY
run_bench postgres

echo "== openssl speed (crypto floor per certificate = 1 sign + 2 verifies):"
openssl speed -seconds 2 ecdsap256 2>/dev/null | tail -n 1
