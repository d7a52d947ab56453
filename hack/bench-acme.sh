#!/usr/bin/env bash
# bench-acme.sh measures full ACME issuances per second: N concurrent lego
# clients, each in a loop of `lego run` with a new account (register, new
# order, http-01 on loopback, finalize, download) against one standalone
# Keystep, on SQLite and then on PostgreSQL. Each client has its own ACME
# provisioner (acme-1 ... acme-N) so it can answer http-01 on its own port.
# Reports issuances/s, p50/p99 of one issuance as the client sees it
# (including lego's own start-up and key generation), and the server's CPU
# per issuance. Everything runs on 127.0.0.1; names are "localhost".
#   BENCH_CLIENTS="1 4 8" BENCH_ISSUANCES=48 ./hack/bench-acme.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
./hack/build.sh keystep >/dev/null
bin=$(realpath "${KEYSTEP_BUILD_DIR:-build}")/keystep
clients_list=${BENCH_CLIENTS:-1 4 8}
issuances=${BENCH_ISSUANCES:-48}
command -v lego >/dev/null || { echo "bench-acme: lego is not installed (hack/install-deps.sh installs it)" >&2; exit 1; }
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

max_clients=0
for n in $clients_list; do [ "$n" -gt "$max_clients" ] && max_clients=$n; done
port=$(bench_free_port)
"$bin" init --name Bench --dns localhost,127.0.0.1 --address "127.0.0.1:$port" --no-password --out "$work/pki" \
  >/dev/null 2>&1
sed -i 's/logLevel: info/logLevel: warn/' "$work/pki/config/keystep.yaml"
declare -a http_ports
for k in $(seq 1 "$max_clients"); do
  http_ports[$k]=$(bench_free_port)
  cat >>"$work/pki/config/keystep.yaml" <<YAML
  - {name: acme-$k, type: ACME, challenges: [http-01], validation: {http01Port: ${http_ports[$k]}}}
YAML
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# client K COUNT: COUNT issuances in a row, one line "<ms>" per success.
client() {
  local k=$1 count=$2
  for i in $(seq 1 "$count"); do
    local dir="$work/lego-$k-$i" start end
    start=$(date +%s%N)
    if LEGO_CA_CERTIFICATES="$work/pki/certs/root_ca.crt" lego --server "https://localhost:$port/acme/acme-$k/directory" \
      --email "bench$k@example.com" --accept-tos --path "$dir" --domains localhost \
      --http --http.port ":${http_ports[$k]}" run >"$dir.log" 2>&1; then
      end=$(date +%s%N)
      echo $(((end - start) / 1000000))
    else
      echo "bench-acme: issuance failed, client $k:" >&2
      tail -n 3 "$dir.log" >&2
    fi
    rm -rf "$dir" "$dir.log"
  done
}

run_bench() {
  local backend=$1
  "$bin" serve --config "$work/pki/config/keystep.yaml" >"$work/$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf --cacert "$work/pki/certs/root_ca.crt" "https://localhost:$port/health" >/dev/null && break
    sleep 0.05
  done
  echo "== $backend: pid=$pid idle_rss_kib=$(awk '/VmRSS/{print $2}' /proc/$pid/status)"
  local hz
  hz=$(getconf CLK_TCK)
  for n in $clients_list; do
    local each=$((issuances / n)) cpu0 cpu1 start end
    [ "$each" -ge 1 ] || each=1
    cpu0=$(cpu_ticks "$pid")
    start=$(date +%s%N)
    for k in $(seq 1 "$n"); do client "$k" "$each" >"$work/times-$n-$k" & done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
    end=$(date +%s%N)
    cpu1=$(cpu_ticks "$pid")
    cat "$work"/times-"$n"-* | sort -n >"$work/times-$n"
    local ok total_ms
    ok=$(wc -l <"$work/times-$n")
    total_ms=$(((end - start) / 1000000))
    awk -v n="$n" -v ok="$ok" -v want=$((each * n)) -v ms="$total_ms" -v cpu=$((cpu1 - cpu0)) -v hz="$hz" '
      { t[NR] = $1 }
      END {
        p50 = t[int((NR - 1) * 0.50) + 1]; p99 = t[int((NR - 1) * 0.99) + 1]
        printf "clients=%d issued=%d/%d wall=%.2fs issuances_per_s=%.1f p50=%dms p99=%dms server_cpu_per_issuance=%.2fms\n",
          n, ok, want, ms / 1000, ok / (ms / 1000), p50, p99, (ok ? cpu * 1000 / hz / ok : 0)
      }' "$work/times-$n"
  done
  echo "   rss_after_kib=$(awk '/VmRSS/{print $2}' /proc/$pid/status)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

run_bench sqlite
bench_postgres_start
bench_postgres_use "$work/pki/config/keystep.yaml"
run_bench postgres
