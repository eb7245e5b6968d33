#!/usr/bin/env bash
# The postgres_cdc source against pg_recvlogical, on one PostgreSQL 15 of its own and the same WAL for every
# consumer. Prints a markdown table.
# Usage: bash tests/bench/postgres_cdc_bench.sh [rows]   (default 1000000; results go into docs/benchmarks.md by hand)
#        ONE_CORE=0 skips the one-core control set; SLUICED=path measures that binary instead of build-bench's.
#
# The server is started in a temp dir as tests/support/postgres_server.cpp does (wal_level=logical, its own port
# and socket dir, fsync off) and removed on exit. The workload is N inserts into one table in statements of
# 100,000 rows each (one transaction each). Every slot is created before the workload, one per consumer and
# repetition, so each measurement decodes exactly the same WAL. Each measurement is repeated 3 times, the three
# consumers interleaved, and the median (by wall time) reported; they run one after another, never in parallel
# (the machines have 2 cores).
#
# - pg_recvlogical: pgoutput (proto 1, the publication) into a file, --endpos the WAL position after the
#   workload; GNU time around it.
# - sluiced: `sluiced run` (the source is endless) from its start until sluice_records_out_total reaches N,
#   polled on /metrics every 50 ms; CPU (utime + stime) and peak RSS (VmHWM) from /proc just before SIGTERM.
# - server CPU: the postmaster's reaped children's CPU before and after each run (the walsender's, and for
#   sluiced its control connection's).
#
# Every scenario is run twice: as the scheduler places the processes (the rows that count), and then with the
# server and the consumer pinned to one core (taskset -c 0), a control without the run-to-run variance that
# comes from where the walsender and the consumer happen to run (ONE_CORE=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
REPS=3
STEP=100000 # rows per INSERT statement (= per transaction)
ONE_CORE=${ONE_CORE:-1}
PGBIN=/usr/lib/postgresql/15/bin
bash scripts/setup.sh >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF -DSLUICE_TESTS=OFF \
  -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
BIN=${SLUICED:-$PWD/build-bench/daemon/sluiced} # SLUICED=path measures another binary
[[ -x $PGBIN/initdb ]] || { echo "PostgreSQL 15 is not installed ($PGBIN/initdb): scripts/setup.sh installs postgresql-15" >&2; exit 1; }

W=$(mktemp -d /tmp/sluice-pgcdc-bench.XXXXXX)
chmod 711 "$W" # the server runs as postgres and must reach its directories through ours
PGDIR=$W/pg
as_postgres() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  [[ -f $PGDIR/data/postmaster.pid ]] && as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# --- the server ---------------------------------------------------------------------------------------------
mkdir -p "$PGDIR/socket"
((EUID == 0)) && chown postgres "$PGDIR" "$PGDIR/socket"
chmod 755 "$PGDIR/socket"
as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$W/initdb.log" 2>&1 ||
  { cat "$W/initdb.log" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres tee -a "$PGDIR/data/postgresql.conf" >/dev/null <<EOF

wal_level = logical
max_replication_slots = 24
max_wal_senders = 8
fsync = off
synchronous_commit = on
full_page_writes = off
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDIR/socket'
shared_buffers = 128MB
max_wal_size = 4GB
max_connections = 50
log_min_messages = warning
EOF
printf '\nhost replication all 127.0.0.1/32 trust\n' | as_postgres tee -a "$PGDIR/data/pg_hba.conf" >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start >/dev/null ||
  { cat "$PGDIR/server.log" >&2; exit 1; }
DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }

echo "sluice postgres_cdc benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $N rows," \
  "$(sql -c 'SHOW server_version' | cut -d' ' -f1) with fsync=off on port $PORT" >&2

# --- the workload: publication first, then every slot, then the rows ----------------------------------------
SETS="free"
((ONE_CORE)) && SETS="free one"
sql -c "CREATE TABLE bench (id bigint PRIMARY KEY, v int, note text, at timestamptz)" \
  -c "CREATE PUBLICATION bench_pub FOR TABLE bench"
for set in $SETS; do
  for c in recv file hole; do
    for ((i = 1; i <= REPS; i++)); do sql -c "SELECT pg_create_logical_replication_slot('bench_${set}_${c}_$i', 'pgoutput')" >/dev/null; done
  done
done
START_LSN=$(sql -c "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
for ((a = 1; a <= N; a += STEP)); do
  b=$((a + STEP - 1 < N ? a + STEP - 1 : N))
  echo "INSERT INTO bench SELECT g, (g % 100000)::int, 'note ' || md5(g::text), timestamptz '2026-01-01 00:00:00+00' + g * interval '1 ms' FROM generate_series($a, $b) g;"
done | sql
t1=$(date +%s.%N)
END=$(sql -c "SELECT pg_current_wal_lsn()")
WAL_BYTES=$(sql -c "SELECT pg_wal_lsn_diff('$END', '$START_LSN')")
[[ $(sql -c "SELECT count(*) FROM bench") == "$N" ]] || { echo "the table does not hold $N rows" >&2; exit 1; }
echo "workload: $N rows in $(((N + STEP - 1) / STEP)) transactions in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s," \
  "$(awk -v b="$WAL_BYTES" 'BEGIN { printf "%.0f", b / 1e6 }') MB of WAL ($START_LSN .. $END)" >&2

median() { sort -n | sed -n "$(((REPS + 1) / 2))p"; }
# The server's side of a measurement: CPU of the postmaster's reaped children (the walsender, and sluice's control
# connection), read once every client backend has exited.
PM=$(head -n1 "$PGDIR/data/postmaster.pid")
server_cpu() {
  local i
  for ((i = 0; i < 200; i++)); do pgrep -P "$PM" -f '127\.0\.0\.1' >/dev/null || break; sleep 0.05; done
  awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($14 + $15) / t }' "/proc/$PM/stat"
}

# --- 1. baseline: pg_recvlogical → file ---------------------------------------------------------------------
# Prints "wall_s cpu_s maxrss_kb bytes server_cpu_s".
recv_once() { # SLOT
  local out=$W/recv-$1.out s0
  s0=$(server_cpu)
  "${PIN[@]}" /usr/bin/time -f '%e %U %S %M' -o "$W/recv.time" "$PGBIN/pg_recvlogical" -d "$DSN" --slot "$1" --start --endpos "$END" \
    -o proto_version=1 -o publication_names=bench_pub -f "$out" --no-loop 2>"$W/recv-$1.log" ||
    { echo "pg_recvlogical failed:" >&2; cat "$W/recv-$1.log" >&2; exit 1; }
  local bytes s1; bytes=$(stat -c %s "$out")
  rm -f "$out"
  s1=$(server_cpu)
  awk -v b="$bytes" -v s="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" '{ printf "%s %.2f %s %s %.2f\n", $1, $2 + $3, $4, b, s }' "$W/recv.time"
}

# --- 2, 3. sluiced → file, sluiced → blackhole --------------------------------------------------------------

daemon() { # DIR SLOT SINK-YAML: a daemon file with one pipeline, p
  rm -rf "$1"; mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nlog: { level: info }\nhttp: { listen: 127.0.0.1:0 }\n' "$1" "$1" >"$1/sluice.yaml"
  printf 'source: { type: postgres_cdc, dsn: "%s", slot: %s, publication: bench_pub, snapshot: never, create_slot: false, heartbeat_interval: 0s }\nsink: %s\n' \
    "$DSN" "$2" "$3" >"$1/pipelines/p.yaml"
}
# Prints "wall_s cpu_s vmhwm_kb bytes server_cpu_s" (bytes: of the part files for the file sink, of the records
# otherwise).
sluice_once() { # SLOT KIND(file|hole)
  local d=$W/$1 out=$W/$1/out r s0 s1
  if [[ $2 == file ]]; then
    daemon "$d" "$1" "{ type: file, path: $out, format: jsonl, batch: { max_records: 10000, max_bytes: 8MiB } }"
  else
    daemon "$d" "$1" "{ type: blackhole }"
  fi
  s0=$(server_cpu)
  r=$("${PIN[@]}" python3 tests/bench/run_sluiced.py "$BIN" "$d/sluice.yaml" "$d/state" "$N" "$d/sluiced.log") || exit 1
  r=$(cut -d' ' -f2-5 <<<"$r")  # wall cpu vmhwm bytes_out
  s1=$(server_cpu)
  if grep -E '\[(warning|error|critical)\]' "$d/sluiced.log" >"$d/complaints"; then
    echo "sluiced logged for $1:" >&2; head -n 20 "$d/complaints" >&2
  fi
  if [[ $2 == file ]]; then
    shopt -s nullglob dotglob
    local parts=("$out"/*.jsonl "$out"/.*.inprogress) lines bytes
    shopt -u nullglob dotglob
    lines=$(cat "${parts[@]}" | wc -l)
    bytes=$(cat "${parts[@]}" | wc -c)
    [[ $lines == "$N" ]] || { echo "$1: the part files hold $lines lines, not $N" >&2; exit 1; }
    echo "$1: ${#parts[@]} part files hold $lines lines, $bytes bytes" >&2
    if [[ $1 == bench_free_file_1 ]]; then # once: every id exactly once, all inserts
      cat "${parts[@]}" | python3 -c '
import json, sys
n = int(sys.argv[1]); seen = bytearray(n + 1); first = None
for line in sys.stdin:
    r = json.loads(line)
    if first is None: first = line.strip()
    ident = int(r["after"]["id"]) if "after" in r else None
    if r.get("op") != "c" or ident is None or not 1 <= ident <= n or seen[ident]: sys.exit("unexpected record: " + line.strip())
    seen[ident] = 1
if sum(seen) != n: sys.exit("ids missing")
sys.stderr.write("every id 1..%d exactly once, all op c; first record: %s\n" % (n, first[:300]))
' "$N" || exit 1
    fi
    rm -rf "$out"
    read -r w c m _ <<<"$r"
    r="$w $c $m $bytes"
  fi
  echo "$r $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')"
}

# One set: REPS rounds of the three consumers, interleaved so that a change in the machine's load touches all
# three alike. Leaves the medians in RECV_<set>, FILE_<set>, HOLE_<set>.
PIN=()
measure_set() { # SET
  local i r recv=() file=() hole=()
  for ((i = 1; i <= REPS; i++)); do
    for c in recv file hole; do
      if [[ $c == recv ]]; then r=$(recv_once "bench_$1_recv_$i"); else r=$(sluice_once "bench_$1_${c}_$i" "$c"); fi
      echo "  bench_$1_${c}_$i: $r (wall s, CPU s, peak RSS KiB, bytes, server CPU s)" >&2
      eval "$c+=(\"\$r\")"
    done
  done
  printf -v "RECV_$1" '%s' "$(printf '%s\n' "${recv[@]}" | median)"
  printf -v "FILE_$1" '%s' "$(printf '%s\n' "${file[@]}" | median)"
  printf -v "HOLE_$1" '%s' "$(printf '%s\n' "${hole[@]}" | median)"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
measure_set free
if ((ONE_CORE)); then
  taskset -p -c 0 "$PM" >/dev/null # the walsenders forked from now on inherit it
  PIN=(taskset -c 0)
  measure_set one
  PIN=()
  taskset -p -c "0-$(($(nproc) - 1))" "$PM" >/dev/null
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

row() { # name "wall cpu rss bytes" goal baseline
  read -r wall cpu rss bytes <<<"$2"
  awk -v name="$1" -v n="$N" -v w="$wall" -v c="$cpu" -v m="$rss" -v b="$bytes" -v g="$3" -v base="$4" 'BEGIN {
    printf "| %s | %.0fk rows/s | %.0f MB/s | %.2f | %.1f MiB | %s | %s |\n", name, n / w / 1e3, b / w / 1e6, c / (n / 1e6), m / 1024, g, base }'
}
ratio() { # BASELINE SAMPLE
  read -r a _ <<<"$1"; read -r b _ <<<"$2"
  awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "pg_recvlogical: %.0fk rows/s; ratio %.2f", n / a / 1e3, a / b }'
}
echo
echo "| scenario | rows/s | MB/s | CPU s per M rows | peak RSS | goal | baseline (same run) |"
echo "|---|---|---|---|---|---|---|"
row "pg_recvlogical → file (baseline)" "$RECV_free" "" "pgoutput bytes, fsync at exit"
row "postgres_cdc → file (JSONL, fsync per commit)" "$FILE_free" "≥ 0.8 × pg_recvlogical" "$(ratio "$RECV_free" "$FILE_free")"
row "postgres_cdc → blackhole" "$HOLE_free" "" "$(ratio "$RECV_free" "$HOLE_free")"
if ((ONE_CORE)); then
  row "one core: pg_recvlogical → file" "$RECV_one" "(control)" ""
  row "one core: postgres_cdc → file" "$FILE_one" "(control)" "$(ratio "$RECV_one" "$FILE_one")"
  row "one core: postgres_cdc → blackhole" "$HOLE_one" "(control)" "$(ratio "$RECV_one" "$HOLE_one")"
fi
echo
echo "| consumer | its CPU s per M rows | server (walsender) CPU s per M rows | total per M rows |"
echo "|---|---|---|---|"
for set in $SETS; do
  for c in RECV FILE HOLE; do
    v=${c}_$set
    case $c in RECV) name="pg_recvlogical" ;; FILE) name="postgres_cdc → file" ;; HOLE) name="postgres_cdc → blackhole" ;; esac
    [[ $set == one ]] && name="one core: $name"
    read -r _ cpu _ _ srv <<<"${!v}"
    awk -v name="$name" -v c="$cpu" -v s="$srv" -v n="$N" 'BEGIN { printf "| %s | %.2f | %.2f | %.2f |\n", name, c / (n / 1e6), s / (n / 1e6), (c + s) / (n / 1e6) }'
  done
done
echo
echo "$N rows ($(((N + STEP - 1) / STEP)) transactions of up to $STEP inserts), $(awk -v b="$WAL_BYTES" 'BEGIN { printf "%.0f", b / 1e6 }') MB of WAL;" \
  "PostgreSQL 15 with fsync=off on the same $(nproc) cores; median of $REPS runs by wall time; sluiced's wall time runs from its start" \
  "until /metrics shows all $N records committed (polled every 50 ms), CPU and peak RSS are sluiced's alone (not the walsender's);" \
  "MB/s counts pg_recvlogical's output file, sluice's JSONL part files, and the blackhole's record bytes;" \
  "server CPU: the walsender's (and sluice's control connection's), of the median run. Load average before/after: $LOAD0 / $LOAD1."
