#!/usr/bin/env bash
# Benchmarks of the real daemon (`sluiced run --config X --once`), each beside a baseline measured in the same
# run on the same data, so that a slow or busy machine moves both and the ratio stays meaningful.
#
# Usage: bash tests/bench/run_benchmarks.sh [records]    (default 5000000)
#
# Prints markdown tables to stdout (docs/benchmarks.md is written from them by hand); progress goes to stderr.
# Every measurement is taken REPS=3 times and the median by wall time is reported, with all three wall times
# beside it: the machines this runs on have 2 cores and are often busy with compiles and tests, and a single
# sample is easily skewed. Data lives in a temp dir under /tmp (at most about 1.5 GB at once with the default
# 5M records), removed at the end however the script ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${1:-5000000}
REPS=3
[[ "$N" =~ ^[0-9]+$ && "$N" -gt 0 ]] || { echo "usage: run_benchmarks.sh [records]" >&2; exit 2; }

log() { echo "bench: $*" >&2; }

# GNU time (the Debian package `time`) gives wall, user and system time and peak RSS of one command; bash's
# `time` keyword gives no RSS. scripts/setup.sh installs it with everything else the build needs.
bash scripts/setup.sh >&2
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing after scripts/setup.sh" >&2; exit 1; }

# Our own build directory, Release and without crash points: the numbers are those of a release build, and
# build/ (used by the tests) is left alone. Tests are off because the benchmark needs only sluiced and the
# tests/bench programs, and other people's half-edited tests must not stop it.
log "building build-bench/ (Release, SLUICE_CRASH_POINTS=OFF)"
cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF \
  -DSLUICE_TESTS=OFF >&2
cmake --build "$ROOT/build-bench" -j"$(nproc)" >&2
BIN=$ROOT/build-bench/daemon/sluiced
RENDER=$ROOT/build-bench/tests/bench/generate_render_bench

W=$(mktemp -d /tmp/sluice-bench.XXXXXX)
IDLE_PID=""
cleanup() {
  # A daemon still running (the idle scenario, interrupted) would keep files open under $W.
  [[ -n "$IDLE_PID" ]] && kill -TERM "$IDLE_PID" 2>/dev/null && wait "$IDLE_PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

# A free port for the daemon's HTTP listener: the default 9477 may be taken by a daemon of a test running in
# parallel, and a daemon that cannot listen would fail the benchmark.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# daemon_dir DIR PIPELINE-YAML: a daemon file in DIR with one pipeline, named `bench`.
daemon_dir() {
  rm -rf "$1"
  mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nhttp: { listen: "127.0.0.1:%s" }\nlog: { level: info, format: text }\n' \
    "$1" "$1" "$PORT" >"$1/sluice.yaml"
  printf '%s\n' "$2" >"$1/pipelines/bench.yaml"
}

# measure PREP CMD...: runs the shell function PREP, then CMD under GNU time, REPS times; stdout goes to
# /dev/null (which is also what `cat FILE` writes to), stderr to a log per run. Sets WALL USR SYS RSS_KB of
# the median run by wall time, CPU (user + sys), SAMPLES (every wall time) and MEDIAN_LOG (that run's stderr,
# where sluiced logs its commit latencies).
measure() {
  local prep=$1 i
  shift
  : >"$W/samples"
  for ((i = 1; i <= REPS; i++)); do
    "$prep"
    if ! /usr/bin/time -o "$W/time.$i" -f '%e %U %S %M' "$@" >/dev/null 2>"$W/log.$i"; then
      echo "bench: failed: $*" >&2
      cat "$W/log.$i" "$W/time.$i" >&2
      exit 1
    fi
    echo "$(tail -n1 "$W/time.$i") $i" >>"$W/samples"
  done
  read -r WALL USR SYS RSS_KB i <<<"$(sort -n -k1,1 "$W/samples" | sed -n "$(((REPS + 1) / 2))p")"
  CPU=$(awk -v u="$USR" -v s="$SYS" 'BEGIN { printf "%.2f", u + s }')
  SAMPLES=$(awk '{ printf "%s%s", sep, $1; sep = ", " }' "$W/samples")
  MEASURED=$((MEASURED + 1))
  MEDIAN_LOG=$W/median-$MEASURED.log
  cp "$W/log.$i" "$MEDIAN_LOG"
}
MEASURED=0
nothing() { :; }

# row NAME RECORDS BYTES: one table row from the last measure; rates use the median run's wall time.
row() {
  awk -v name="$1" -v r="$2" -v b="$3" -v w="$WALL" -v c="$CPU" -v m="$RSS_KB" -v s="$SAMPLES" 'BEGIN {
    if (w <= 0) w = 0.005  # GNU time rounds to 10 ms
    printf "| %s | %.2f (%s) | %.2f M/s | %.0f MB/s | %.2f | %.3f | %.1f MiB |\n",
      name, w, s, r / w / 1e6, b / w / 1e6, c, c / (r / 1e6), m / 1024 }'
}
HEADER='| program | wall s, median (all 3) | records/s | MB/s | CPU s (user+sys) | CPU s per M records | peak RSS |
|---|---|---|---|---|---|---|'

# The last pipeline summary of a sluiced log: "N records in, N committed in K commits (p50 X ms, p99 Y ms), ...".
summary() { grep -o 'finished: .*' "$1" | tail -n1; }
latency() { summary "$1" | grep -o 'p50 [0-9.]* ms, p99 [0-9.]* ms'; }
commits() { summary "$1" | grep -o 'in [0-9]* commits' | grep -o '[0-9]*'; }
# A benchmark of a run that lost records would be worthless: insist that all N went in and were committed.
check_all_committed() {
  summary "$1" | grep -q "^finished: $N records in, $N committed " || {
    echo "bench: sluiced did not commit all $N records:" >&2
    cat "$1" >&2
    exit 1
  }
}
# goal VALUE OP TARGET: "met" or "**not met**", OP being >= or <=.
goal() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print (ok ? "met" : "**not met**") }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
DISK_DEV=$(df --output=source /tmp | tail -n1)
DISK_NAME=$(lsblk -no PKNAME "$DISK_DEV" 2>/dev/null | head -n1)
DISK_NAME=${DISK_NAME:-$(basename "$DISK_DEV")}
DISK_ROTA=$(cat "/sys/block/$DISK_NAME/queue/rotational" 2>/dev/null || echo "?")
START_LOAD=$(loadavg)

# ---- The input, and the byte count of scenario 1's records ---------------------------------------------------
# sluiced itself writes the very records scenario 1 generates (same source block, so the same seed, keys and
# payload size) into one JSONL file, without fsync. Its size minus the newlines is the exact byte count of
# scenario 1's records, and the file is the input of scenarios 2 and 3: N JSON objects of ~140 bytes.
log "generating $N records into the input file (load $(loadavg))"
GEN_SOURCE="source: { type: generate, count: $N, rate: 0 }"
daemon_dir "$W/mk" "$GEN_SOURCE
queue: { max_records: 50000 }
sink: { type: file, path: $W/in, format: jsonl, fsync: false, roll: { max_bytes: 1TiB }, batch: { max_records: 10000 } }"
"$BIN" run --config "$W/mk/sluice.yaml" --once 2>"$W/mk.log" || { cat "$W/mk.log" >&2; exit 1; }
check_all_committed "$W/mk.log"
shopt -s nullglob
files=("$W"/in/*.jsonl)
((${#files[@]} == 1)) || { echo "bench: expected one input file, got ${#files[@]}" >&2; exit 1; }
IN=${files[0]}
FILE_BYTES=$(stat -c %s "$IN")
RECORD_BYTES=$((FILE_BYTES - N))  # each record is its line without the newline
rm -rf "$W/mk"
# Warm the page cache, so every reader below (sluiced, wc, cat) reads from memory, not from the disk.
cat "$IN" >/dev/null

# ---- 1. generate → blackhole ----------------------------------------------------------------------------------
log "1. generate → blackhole (load $(loadavg))"
daemon_dir "$W/g" "$GEN_SOURCE
queue: { max_records: 50000 }
sink: { type: blackhole, batch: { max_records: 10000 } }"
# Each run starts from an empty state dir: a second run would resume after the last record and do nothing.
prep_g() { rm -rf "$W/g/state"; }
measure prep_g "$BIN" run --config "$W/g/sluice.yaml" --once
check_all_committed "$MEDIAN_LOG"
S1_ROW=$(row "sluiced: generate → blackhole" "$N" "$RECORD_BYTES")
S1_RATE=$(awk -v n="$N" -v w="$WALL" 'BEGIN { printf "%.2f", n / w / 1e6 }')
S1_RSS=$(awk -v m="$RSS_KB" 'BEGIN { printf "%.1f", m / 1024 }')
S1_LAT=$(latency "$MEDIAN_LOG")
S1_COMMITS=$(commits "$MEDIAN_LOG")
# The ceiling: the generator's render() alone, same options, same N, in a tight loop.
measure nothing "$RENDER" "$N"
S1_BASE=$(row "baseline: \`generate_render_bench $N\` (render() alone)" "$N" "$RECORD_BYTES")
S1_BASE_RATE=$(awk -v n="$N" -v w="$WALL" 'BEGIN { printf "%.2f", n / w / 1e6 }')
# The fixed cost of a run (start-up, RocksDB open, shutdown) with one record, to read the rows above against.
daemon_dir "$W/one" "source: { type: generate, count: 1, rate: 0 }
sink: { type: blackhole }"
prep_one() { rm -rf "$W/one/state"; }
measure prep_one "$BIN" run --config "$W/one/sluice.yaml" --once
S1_ONE=$(awk -v w="$WALL" -v c="$CPU" -v m="$RSS_KB" -v s="$SAMPLES" 'BEGIN {
  printf "| for reference: sluiced with 1 record (start-up and shutdown alone) | %.2f (%s) | | | %.2f | | %.1f MiB |\n", w, s, c, m / 1024 }')

# ---- 2. JSONL file → blackhole --------------------------------------------------------------------------------
log "2. JSONL file → blackhole (load $(loadavg))"
daemon_dir "$W/f" "source: { type: file, path: $W/in, watch: false }
queue: { max_records: 50000 }
sink: { type: blackhole, batch: { max_records: 10000 } }"
prep_f() { rm -rf "$W/f/state"; }
measure prep_f "$BIN" run --config "$W/f/sluice.yaml" --once
check_all_committed "$MEDIAN_LOG"
S2_ROW=$(row "sluiced: JSONL file → blackhole" "$N" "$FILE_BYTES")
S2_RATE=$(awk -v n="$N" -v w="$WALL" 'BEGIN { printf "%.2f", n / w / 1e6 }')
S2_RSS=$(awk -v m="$RSS_KB" 'BEGIN { printf "%.1f", m / 1024 }')
S2_LAT=$(latency "$MEDIAN_LOG")
S2_COMMITS=$(commits "$MEDIAN_LOG")
measure nothing wc -l "$IN"
S2_WC=$(row "baseline: \`wc -l FILE\`" "$N" "$FILE_BYTES")
measure nothing cat "$IN"
S2_CAT=$(row "baseline: \`cat FILE > /dev/null\`" "$N" "$FILE_BYTES")

# ---- 3. JSONL file → file sink, fsync on ----------------------------------------------------------------------
# Default batches (5000 records / 4 MiB / 200 ms), default queue and roll: what a user gets without tuning.
log "3. JSONL file → file, fsync (load $(loadavg))"
daemon_dir "$W/s" "source: { type: file, path: $W/in, watch: false }
sink: { type: file, path: $W/out, format: jsonl, fsync: true }"
# sync after removing the last run's output, so its writeback does not land in the next run's time.
prep_s() { rm -rf "$W/s/state" "$W/out"; sync; }
measure prep_s "$BIN" run --config "$W/s/sluice.yaml" --once
check_all_committed "$MEDIAN_LOG"
OUT_BYTES=$(cat "$W"/out/*.jsonl | wc -c)
[[ "$OUT_BYTES" == "$FILE_BYTES" ]] || { echo "bench: file sink wrote $OUT_BYTES bytes, input has $FILE_BYTES" >&2; exit 1; }
S3_ROW=$(row "sluiced: JSONL file → file (jsonl, fsync: true, default batches)" "$N" "$FILE_BYTES")
S3_MBS=$(awk -v b="$FILE_BYTES" -v w="$WALL" 'BEGIN { printf "%.0f", b / w / 1e6 }')
S3_RSS=$(awk -v m="$RSS_KB" 'BEGIN { printf "%.1f", m / 1024 }')
S3_LAT=$(latency "$MEDIAN_LOG")
S3_COMMITS=$(commits "$MEDIAN_LOG")
# The same with commits of up to 32 MiB: how much of the gap is the number of fsyncs (not a default).
daemon_dir "$W/t" "source: { type: file, path: $W/in, watch: false }
queue: { max_records: 250000, max_bytes: 256MiB }
sink: { type: file, path: $W/out, format: jsonl, fsync: true, batch: { max_records: 250000, max_bytes: 32MiB, max_wait: 1s } }"
prep_t() { rm -rf "$W/t/state" "$W/out"; sync; }
measure prep_t "$BIN" run --config "$W/t/sluice.yaml" --once
check_all_committed "$MEDIAN_LOG"
S3B_ROW=$(row "sluiced, tuned: the same with 32 MiB / 250k-record batches" "$N" "$FILE_BYTES")
S3B_MBS=$(awk -v b="$FILE_BYTES" -v w="$WALL" 'BEGIN { printf "%.0f", b / w / 1e6 }')
S3B_LAT=$(latency "$MEDIAN_LOG")
S3B_COMMITS=$(commits "$MEDIAN_LOG")
rm -rf "$W/out"
prep_cp() { rm -f "$W/copy"; sync; }
measure prep_cp sh -c 'cat "$1" > "$2"; sync "$2"' sh "$IN" "$W/copy"
S3_BASE=$(row "baseline: \`cat FILE > OUT; sync OUT\`" "$N" "$FILE_BYTES")
CAT_MBS=$(awk -v b="$FILE_BYTES" -v w="$WALL" 'BEGIN { printf "%.0f", b / w / 1e6 }')
rm -f "$W/copy"
S3_RATIO=$(awk -v a="$S3_MBS" -v b="$CAT_MBS" 'BEGIN { printf "%.2f", a / b }')
S3B_RATIO=$(awk -v a="$S3B_MBS" -v b="$CAT_MBS" 'BEGIN { printf "%.2f", a / b }')

# ---- 4. Idle RSS ----------------------------------------------------------------------------------------------
# One endless pipeline at 1 record/s into a file sink; after 5 s, VmRSS from /proc (what the process holds
# now; GNU time only gives the peak, at exit). Also the CPU it used in those 5 s, which shows busy polling.
log "4. idle RSS (load $(loadavg))"
daemon_dir "$W/i" "source: { type: generate, rate: 1 }
sink: { type: file, path: $W/idle }"
: >"$W/idle.samples"
for ((i = 1; i <= REPS; i++)); do
  rm -rf "$W/i/state" "$W/idle"
  "$BIN" run --config "$W/i/sluice.yaml" 2>"$W/idle.log" &
  IDLE_PID=$!
  sleep 5
  kill -0 "$IDLE_PID" 2>/dev/null || { echo "bench: idle daemon exited early" >&2; cat "$W/idle.log" >&2; exit 1; }
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$IDLE_PID/status")
  ticks=$(awk '{ print $14 + $15 }' "/proc/$IDLE_PID/stat")  # utime + stime, in clock ticks
  echo "$rss $ticks" >>"$W/idle.samples"
  kill -TERM "$IDLE_PID"
  wait "$IDLE_PID" || { echo "bench: idle daemon did not stop cleanly" >&2; cat "$W/idle.log" >&2; exit 1; }
  IDLE_PID=""
done
read -r IDLE_KB IDLE_TICKS <<<"$(sort -n -k1,1 "$W/idle.samples" | sed -n "$(((REPS + 1) / 2))p")"
IDLE_ALL=$(awk '{ printf "%s%.1f", sep, $1 / 1024; sep = ", " }' "$W/idle.samples")
IDLE_MIB=$(awk -v k="$IDLE_KB" 'BEGIN { printf "%.1f", k / 1024 }')
IDLE_CPU_MS=$(awk -v t="$IDLE_TICKS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1000 / hz }')

# ---- Report ---------------------------------------------------------------------------------------------------
cat <<EOF
## sluice benchmarks

- machine: $(nproc) CPUs ($CPU_MODEL), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, /tmp on $DISK_NAME (rotational: $DISK_ROTA), kernel $(uname -r)
- build: build-bench/, Release, $(c++ --version | head -n1)
- load average at the start: $START_LOAD; at the end: $(loadavg)
- data: $N generated records, $RECORD_BYTES bytes of records ($(awk -v b="$RECORD_BYTES" -v n="$N" 'BEGIN { printf "%.1f", b / n }') bytes each), written as a $FILE_BYTES-byte JSONL file
- every row is the median of $REPS runs by wall time; rates are computed from that run

### 1. generate → blackhole (queue 50000 records, batches of 10000 records)

MB/s counts the records' bytes (no newlines).

$HEADER
$S1_ROW
$S1_BASE
$S1_ONE

Goal ≥ 2 M records/s: $(goal "$S1_RATE" ">=" 2) ($S1_RATE M/s; the render loop alone: $S1_BASE_RATE M/s). $S1_COMMITS commits.

### 2. JSONL file → blackhole (queue 50000 records, batches of 10000 records; page cache warm)

MB/s counts the file's bytes.

$HEADER
$S2_ROW
$S2_WC
$S2_CAT

Goal ≥ 1.5 M records/s: $(goal "$S2_RATE" ">=" 1.5) ($S2_RATE M/s). $S2_COMMITS commits.

### 3. JSONL file → file sink with fsync (page cache warm for the input)

$HEADER
$S3_ROW
$S3B_ROW
$S3_BASE

Goal ≥ 0.5 × cat's MB/s: $(goal "$S3_RATIO" ">=" 0.5) (default batches: $S3_MBS MB/s = $S3_RATIO × cat+sync's $CAT_MBS MB/s, $S3_COMMITS commits; 32 MiB batches: $S3B_MBS MB/s = $S3B_RATIO ×, $S3B_COMMITS commits).

### 4. Memory

| measure | value | goal |
|---|---|---|
| idle RSS: generate (rate 1) → file sink, VmRSS after 5 s, median (all 3) | $IDLE_MIB MiB ($IDLE_ALL) | ≤ 16 MiB: $(goal "$IDLE_MIB" "<=" 16) |
| CPU used by that idle daemon in its first 5 s (start-up included) | $IDLE_CPU_MS ms | |
| peak RSS under load, generate → blackhole | $S1_RSS MiB | |
| peak RSS under load, JSONL file → blackhole | $S2_RSS MiB | |
| peak RSS under load, JSONL file → file (fsync) | $S3_RSS MiB | |

### 5. Commit latency (from sluiced's own summary line, median run)

| pipeline | commits | latency |
|---|---|---|
| generate → blackhole (batches of 10000 records) | $S1_COMMITS | $S1_LAT |
| JSONL file → blackhole (batches of 10000 records) | $S2_COMMITS | $S2_LAT |
| JSONL file → file, fsync, default batches | $S3_COMMITS | $S3_LAT |
| JSONL file → file, fsync, 32 MiB batches | $S3B_COMMITS | $S3B_LAT |
EOF
