#!/usr/bin/env bash
# bench-operator.sh measures CertificateRequest created -> Ready=True
# observed on a fresh kube-apiserver 1.20 + etcd on 127.0.0.1, started the
# way tests/support/kube_apiserver.h starts them. It runs, each one request
# at a time and as a burst:
#   1. the floor: `keystep bench certificaterequests --zero-work`, the bench
#      itself answering every request with one status patch (no Keystep);
#   2. one `keystep serve --kubernetes` (SQLite) signing for a StepClusterIssuer;
# then a burst against three replicas on one PostgreSQL with leader
# election, and checks that each request was signed exactly once: one
# ledger row per request UID, holding the serial the request got, and as
# many recorded signatures across the replicas' metrics as requests.
# It ends with a summary table and Keystep's figures as multiples of the floor.
# BENCH_REQUESTS sets the burst (default 1000), BENCH_SERIAL_REQUESTS the
# one-at-a-time count (default 200), BENCH_TIMEOUT each request's deadline;
# KEYSTEP_BUILD_DIR and KEYSTEP_KUBE_APISERVER are honoured as elsewhere.
#   BENCH_REQUESTS=1000 BENCH_SERIAL_REQUESTS=200 ./hack/bench-operator.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)
./hack/install-deps.sh
kube_apiserver=${KEYSTEP_KUBE_APISERVER:-$(./hack/kube-apiserver.sh | tail -n1)}
./hack/build.sh keystep >/dev/null
build_dir=${KEYSTEP_BUILD_DIR:-build}
bin=$(cd "$build_dir" && pwd)/keystep
burst=${BENCH_REQUESTS:-1000}
serial=${BENCH_SERIAL_REQUESTS:-$((burst < 200 ? burst : 200))}
timeout=${BENCH_TIMEOUT:-120s}
# The cert-manager CRDs sit beside the source tree, as the test harness expects.
cert_manager_crds=${KEYSTEP_SOURCE_DIR:-$source_dir}/../shared/testdata/cert-manager-crds
source hack/lib/bench-postgres.sh
ns=keystep-bench
issuer=bench

for tool in /usr/bin/etcd /usr/bin/kubectl "$kube_apiserver" "$pg_bin/initdb" curl openssl python3 psql; do
  command -v "$tool" >/dev/null ||
    { echo "bench: $tool not found (see hack/install-deps.sh, hack/kube-apiserver.sh)" >&2; exit 1; }
done
[ -d "$cert_manager_crds" ] || { echo "bench: cert-manager CRDs not found at $cert_manager_crds" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
etcd_dir=$(mktemp -d /dev/shm/keystep-bench-etcd-XXXXXX 2>/dev/null || mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bench_postgres_stop || true
  rm -rf "$work" "$etcd_dir"
}
trap cleanup EXIT

free_port() { bench_free_port; }
die() { echo "bench: $*" >&2; exit 1; }
k() { kubectl --kubeconfig "$work/admin.kubeconfig" --cache-dir "$work/kubectl-cache" "$@"; }

# --- etcd and kube-apiserver, as tests/support/kube_apiserver.h runs them ---
cat >"$work/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
CNF
ossl() { openssl "$@" 2>/dev/null >/dev/null || die "openssl $1 failed"; }
ossl req -x509 -new -config "$work/openssl.cnf" -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -nodes -keyout "$work/serving-ca.key" -out "$work/serving-ca.crt" -subj /CN=keystep-bench-serving-ca -days 2
ossl req -x509 -new -config "$work/openssl.cnf" -extensions server -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -nodes -keyout "$work/serving.key" -out "$work/serving.crt" -subj /CN=kube-apiserver -days 2 \
  -CA "$work/serving-ca.crt" -CAkey "$work/serving-ca.key"
ossl req -x509 -new -config "$work/openssl.cnf" -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -nodes -keyout "$work/client-ca.key" -out "$work/client-ca.crt" -subj /CN=keystep-bench-client-ca -days 2
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sa.key"
ossl pkey -in "$work/sa.key" -pubout -out "$work/sa.pub"
admin_token=$(openssl rand -hex 32)
(umask 077 && echo "$admin_token,admin,admin-uid,\"system:masters\"" >"$work/tokens.csv")

etcd_port=$(free_port)
etcd_peer_port=$(free_port)
etcd --name keystep-bench --data-dir "$etcd_dir/data" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "keystep-bench=http://127.0.0.1:$etcd_peer_port" --initial-cluster-state new \
  --snapshot-count 100000 --log-level warn --logger zap --quota-backend-bytes $((1 << 30)) >"$work/etcd.log" 2>&1 &
etcd_pid=$!
pids+=($etcd_pid)
for _ in $(seq 1 600); do
  curl -sS --max-time 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"' && break
  kill -0 "$etcd_pid" 2>/dev/null || { tail -n 40 "$work/etcd.log" >&2; die "etcd exited while starting"; }
  sleep 0.1
done

api_port=$(free_port)
"$kube_apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
  --secure-port="$api_port" --tls-cert-file="$work/serving.crt" --tls-private-key-file="$work/serving.key" \
  --client-ca-file="$work/client-ca.crt" --token-auth-file="$work/tokens.csv" --authorization-mode=RBAC \
  --service-account-key-file="$work/sa.pub" --service-account-signing-key-file="$work/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --api-audiences=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range=10.0.0.0/24 \
  --disable-admission-plugins=ServiceAccount --endpoint-reconciler-type=none --enable-priority-and-fairness=false \
  --profiling=false --cert-dir="$work/cert-dir" >"$work/kube-apiserver.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
api() {
  curl -sS --fail --max-time 5 --cacert "$work/serving-ca.crt" -H @"$work/auth.header" "https://127.0.0.1:$api_port$1"
}
(umask 077 && echo "Authorization: Bearer $admin_token" >"$work/auth.header")
is_ready=""
for _ in $(seq 1 600); do
  kill -0 "$api_pid" 2>/dev/null ||
    { tail -n 40 "$work/kube-apiserver.log" >&2; die "kube-apiserver exited while starting"; }
  [ "$(api /readyz 2>/dev/null)" = ok ] && api /api/v1/namespaces/default >/dev/null 2>&1 && { is_ready=1; break; }
  sleep 0.1
done
[ -n "$is_ready" ] || { tail -n 40 "$work/kube-apiserver.log" >&2; die "kube-apiserver was not ready within 60 s"; }
(umask 077 && cat >"$work/admin.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: keystep-bench
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$work/serving-ca.crt")
contexts:
- name: keystep-bench
  context: {cluster: keystep-bench, user: admin, namespace: $ns}
current-context: keystep-bench
users:
- name: admin
  user:
    token: $admin_token
KUBECONFIG
)
echo "== kube-apiserver $("$kube_apiserver" --version | awk '{print $2}') on 127.0.0.1:$api_port," \
  "etcd $(etcd --version | awk '/etcd Version/{print $3}') on tmpfs"

k apply -f "$cert_manager_crds" -f "$source_dir/crds" >/dev/null
k wait --for condition=Established --timeout 60s crd --all >/dev/null
k create namespace "$ns" >/dev/null

# --- the CA, its Secret and the issuer ---
"$bin" init --name Bench --dns 127.0.0.1 --no-password --secret-namespace "$ns" --out "$work/pki" >/dev/null 2>&1 ||
  die "keystep init failed"
sed -i 's/logLevel: info/logLevel: warn/' "$work/pki/config/keystep.yaml"
k apply -f "$work/pki/kubernetes/intermediate-secret.yaml" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: keystep.dev/v1alpha1
kind: StepClusterIssuer
metadata: {name: $issuer}
spec:
  ca: {secretRef: {name: keystep-intermediate, namespace: $ns}}
YAML

# CPU accounting, in clock ticks: user + system time of processes, and
# the machine's busy time (so CPU used by anything else shows).
ticks_of() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)

results=()
# bench LABEL ARGS...: one run of the bench. Its key=value line goes into
# the table with the CPU per request of the API server (kube-apiserver and
# etcd), of Keystep and of the bench itself, over the whole invocation
# (preparation and clean-up included), and the share of the machine that
# other processes (PostgreSQL among them) used meanwhile.
bench() {
  local label=$1
  shift
  local out api0 ks0 busy0 t0 api1 ks1 busy1 t1 bench_ticks n
  api0=$(ticks_of "$api_pid" "$etcd_pid")
  ks0=$(ticks_of "${replica_pids[@]}")
  busy0=$(busy_ticks)
  t0=$(date +%s%N)
  out=$("$bin" bench certificaterequests --kubeconfig "$work/admin.kubeconfig" --namespace "$ns" \
    --timeout "$timeout" "$@"
    rc=$? self=$BASHPID
    # The bench's CPU is this subshell's cutime + cstime once it has exited.
    sed 's/.*) //' "/proc/$self/stat" | awk '{print $14 + $15}' >"$work/bench.ticks"
    exit $rc) || { echo "$out"; die "$label failed (see above)"; }
  t1=$(date +%s%N)
  busy1=$(busy_ticks)
  api1=$(ticks_of "$api_pid" "$etcd_pid")
  ks1=$(ticks_of "${replica_pids[@]}")
  bench_ticks=$(cat "$work/bench.ticks")
  n=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$out")
  echo "$label: $out"
  results+=("$label|$out $(awk -v a=$((api1 - api0)) -v k=$((ks1 - ks0)) -v b="$bench_ticks" \
    -v busy=$((busy1 - busy0)) -v ns=$((t1 - t0)) -v n="$n" -v hz="$hz" -v cpus="$(nproc)" 'BEGIN {
      ms = 1000 / hz / n
      printf "api_cpu_ms=%.2f keystep_cpu_ms=%.2f bench_cpu_ms=%.2f other_cpu_pct=%.0f",
        a * ms, k * ms, b * ms, 100 * (busy - a - k - b) / hz / (ns / 1e9) / cpus }')")
}

# start_replicas N: N keystep serve --kubernetes processes; waits until one
# leads and the issuer is Ready at its current generation.
replica_pids=()
start_replicas() {
  replica_pids=()
  for i in $(seq 1 "$1"); do
    "$bin" serve --config "$work/pki/config/keystep.yaml" --address 127.0.0.1:0 --kubernetes \
      --kubeconfig "$work/admin.kubeconfig" --lease-namespace "$ns" >"$work/replica$i.log" 2>&1 &
    replica_pids+=($!)
    pids+=($!)
  done
  for _ in $(seq 1 300); do
    [ "$(leaders)" = 1 ] && break
    sleep 0.1
  done
  [ "$(leaders)" = 1 ] || { tail -n 20 "$work"/replica*.log >&2; die "no replica became leader"; }
  k wait --for condition=Ready --timeout 60s "stepclusterissuer/$issuer" >/dev/null ||
    { k describe "stepclusterissuer/$issuer" >&2; die "StepClusterIssuer $issuer is not Ready"; }
}
stop_replicas() {
  for p in "${replica_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${replica_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  replica_pids=()
}
# metric NAME_REGEX: the sum of matching samples over every running replica.
metric() {
  local total=0 p port value
  for p in "${replica_pids[@]}"; do
    port=$(ss -Htlnp 2>/dev/null | sed -n "s/.*127.0.0.1:\([0-9]*\) .*pid=$p,.*/\1/p" | head -n1)
    [ -n "$port" ] || continue
    value=$(curl -sS --max-time 5 --cacert "$work/pki/certs/root_ca.crt" "https://127.0.0.1:$port/metrics" 2>/dev/null |
      awk -v re="$1" '$1 ~ re {s += $2} END {print s + 0}')
    total=$(awk -v a="$total" -v b="$value" 'BEGIN {print a + b}')
  done
  echo "$total"
}
leaders() { metric '^keystep_leader$'; }

echo "== floor: zero-work issuer (no Keystep running)"
bench "floor 1-at-a-time" --zero-work --requests "$serial" --concurrency 1
bench "floor burst" --zero-work --requests "$burst" --concurrency "$burst"

echo "== Keystep: one replica, SQLite"
start_replicas 1
bench "keystep 1-at-a-time" --issuer-name "$issuer" --requests "$serial" --concurrency 1
bench "keystep burst" --issuer-name "$issuer" --requests "$burst" --concurrency "$burst"
stop_replicas

bench_postgres_start
bench_postgres_use "$work/pki/config/keystep.yaml"

echo "== Keystep: three replicas, PostgreSQL, leader election"
start_replicas 3
bench "keystep x3 burst" --issuer-name "$issuer" --requests "$burst" --concurrency "$burst" \
  --record "$work/replicas.record"
signatures=$(metric '^keystep_certificates_issued_total\{.*result="success"')
stop_replicas

# Exactly once: the ledger holds one row per request UID, with the serial
# the request was given, and the replicas recorded as many signatures.
awk '{print $2, $3}' "$work/replicas.record" | sort >"$work/requests.txt"
pg -d keystep -c "SELECT request_id || ' ' || serial FROM certificates WHERE source = 'certificaterequest'" |
  sort >"$work/ledger.txt"
rows=$(wc -l <"$work/ledger.txt")
distinct=$(cut -d' ' -f1 "$work/ledger.txt" | sort -u | wc -l)
issued=$(wc -l <"$work/requests.txt")
once="FAILED"
if [ "$issued" -eq "$burst" ] && [ "$rows" -eq "$burst" ] && [ "$distinct" -eq "$burst" ] &&
  cmp -s "$work/requests.txt" "$work/ledger.txt" && [ "$signatures" = "$burst" ]; then
  once="ok"
fi
echo "== exactly once: requests=$burst issued=$issued ledger_rows=$rows distinct_request_ids=$distinct" \
  "ledger_matches_request_serials=$(cmp -s "$work/requests.txt" "$work/ledger.txt" && echo yes || echo no)" \
  "signatures_recorded_by_replicas=$signatures: $once"

# Nothing the bench made is left behind.
left=$(k get certificaterequests --all-namespaces -l bench.keystep.dev/run -o name | wc -l)
[ "$left" -eq 0 ] || die "$left CertificateRequests of the bench were not deleted"

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
echo
echo "== $(nproc) cores. CPU columns: ms per request of kube-apiserver + etcd, Keystep (all replicas) and the"
echo "   bench, over the whole run; other% is the machine's CPU used by anything else meanwhile (PostgreSQL too)."
printf '%-20s %5s %7s %8s %8s %8s %8s %6s %7s %7s %7s %6s\n' run reqs req/s p50_ms p95_ms p99_ms max_ms failed \
  api_ms keystep bench other%
for r in "${results[@]}"; do
  label=${r%%|*}
  line=${r#*|}
  printf '%-20s %5s %7s %8s %8s %8s %8s %6s %7s %7s %7s %6s\n' "$label" "$(field "$line" requests)" \
    "$(field "$line" requests_per_second)" "$(field "$line" p50_ms)" "$(field "$line" p95_ms)" \
    "$(field "$line" p99_ms)" "$(field "$line" max_ms)" "$(field "$line" failed)" "$(field "$line" api_cpu_ms)" \
    "$(field "$line" keystep_cpu_ms)" "$(field "$line" bench_cpu_ms)" "$(field "$line" other_cpu_pct)"
done
value() { for r in "${results[@]}"; do [ "${r%%|*}" = "$1" ] && field "${r#*|}" "$2"; done; }
echo
awk -v kp="$(value "keystep 1-at-a-time" p50_ms)" -v fp="$(value "floor 1-at-a-time" p50_ms)" \
  -v kr="$(value "keystep burst" requests_per_second)" -v fr="$(value "floor burst" requests_per_second)" \
  -v k3="$(value "keystep x3 burst" requests_per_second)" 'BEGIN {
    printf "1-at-a-time p50, keystep/floor: %.2f; burst req/s, floor/keystep: %.2f (1 replica), %.2f (3 replicas)",
      kp / fp, fr / kr, fr / k3
    print "; target: at most 2" }'
echo "exactly once (3 replicas, $burst requests): $once"
[ "$once" = ok ] || exit 1
