# bench-postgres.sh is sourced by the hack/bench-*.sh scripts: a throwaway
# PostgreSQL 15 for benchmarks, run as the unprivileged postgres user on a
# free loopback port under $work/pg. The caller sets $work and stops it in
# its cleanup with bench_postgres_stop.
#   bench_postgres_start            # sets pg_port; creates database keystep
#   pg -d keystep -c "SELECT ..."   # psql as the superuser, unaligned output
#   bench_postgres_use CONFIG       # points keystep.yaml's storage at it
#   bench_postgres_stop

pg_bin=/usr/lib/postgresql/15/bin
pg_port=""

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg() { PGPASSWORD=$(cat "$work/pg.pw") psql -X -q -At -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

bench_postgres_start() {
  mkdir -p "$work/pg"
  chown postgres "$work/pg"
  (umask 077 && head -c 18 /dev/urandom | base64 >"$work/pg.pw")
  chown postgres "$work/pg.pw"
  runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=scram-sha-256 \
    --pwfile="$work/pg.pw" >/dev/null
  pg_port=$(bench_free_port)
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
    -o "-h 127.0.0.1 -p $pg_port -k $work/pg" start >/dev/null
  pg -d postgres -c "CREATE DATABASE keystep" >/dev/null
}

# bench_postgres_use replaces the storage section of a keystep.yaml written
# by keystep init with this database (the password stays in its file).
bench_postgres_use() {
  python3 - "$1" "$pg_port" "$work/pg.pw" <<'PY'
import re, sys
path, port, pw = sys.argv[1:]
text = open(path).read()
text = re.sub(r"storage:.*?\n(  .*\n)*", "", text)
text += f"storage: {{kind: postgres, dsn: \"host=127.0.0.1 port={port} dbname=keystep user=postgres\", passwordFile: {pw}}}\n"
open(path, "w").write(text)
PY
}

bench_postgres_stop() {
  [ -n "$pg_port" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1
  pg_port=""
}
