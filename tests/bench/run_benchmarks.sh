#!/usr/bin/env bash
# Benchmarks of the real sluiced, each beside a baseline measured in the same run. Prints a markdown table.
# Usage: bash tests/bench/run_benchmarks.sh [records]   (default 5000000; results go into docs/benchmarks.md by hand)
# Each measurement is repeated 3 times and the median (by wall time) is reported: the machines have 2 cores
# and anything else running skews a single sample.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000000}
REPS=3
bash scripts/setup.sh >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF -DSLUICE_TESTS=OFF \
  -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
BIN=$PWD/build-bench/daemon/sluiced
RENDER=$PWD/build-bench/tests/bench/generate_render_bench
W=$(mktemp -d /tmp/sluice-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

daemon() { # DIR PIPELINE-YAML: a daemon file with one pipeline
  rm -rf "$1"; mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nlog: { level: info }\nhttp: { listen: 127.0.0.1:0 }\n' "$1" "$1" >"$1/sluice.yaml"
  printf '%s\n' "$2" >"$1/pipelines/p.yaml"
}
# Runs a command REPS times; prints the median sample as "wall_s cpu_s maxrss_kb" (GNU time).
measure() {
  local samples=() i
  for ((i = 0; i < REPS; i++)); do
    [[ -n "${BEFORE:-}" ]] && eval "$BEFORE"
    samples+=("$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n1)")
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
}
row() { # name records bytes "wall cpu rss" goal baseline
  read -r wall cpu rss <<<"$4"
  awk -v n="$1" -v r="$2" -v b="$3" -v w="$wall" -v c="$cpu" -v m="$rss" -v g="$5" -v base="$6" 'BEGIN {
    printf "| %s | %.2f M/s | %.0f MB/s | %.2f | %.1f MiB | %s | %s |\n", n, r / w / 1e6, b / w / 1e6, c / (r / 1e6), m / 1024, g, base }'
}

echo "sluice benchmarks: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $N records" >&2

# The input: N generated JSON lines (~140 bytes each), made by sluiced itself without fsync.
daemon "$W/mk" "source: { type: generate, count: $N, payload_bytes: 48 }
sink: { type: file, path: $W/input, format: jsonl, fsync: false, roll: { max_bytes: 16GiB } }"
"$BIN" run --config "$W/mk/sluice.yaml" --once 2>/dev/null
IN=$(ls "$W"/input/*.jsonl)
BYTES=$(stat -c %s "$IN")
mkdir -p "$W/in" && mv "$IN" "$W/in/data.jsonl" && IN=$W/in/data.jsonl
cat "$IN" >/dev/null  # warm the page cache for every reader below

echo "| scenario | records/s | MB/s | CPU s per M records | peak RSS | goal | baseline (same run) |"
echo "|---|---|---|---|---|---|---|"

# 1. generate → blackhole, beside the generator's rendering alone.
read -r _ _ gbytes _ gwall _ <<<"$("$RENDER" "$N")"
daemon "$W/g" "source: { type: generate, count: $N }
queue: { max_records: 50000 }
sink: { type: blackhole, batch: { max_records: 10000 } }"
BEFORE="rm -rf $W/g/state" r=$(measure "$BIN" run --config "$W/g/sluice.yaml" --once)
row "generate → blackhole" "$N" "$gbytes" "$r" "≥ 2 M/s" "render loop alone: $(awk -v n="$N" -v w="$gwall" 'BEGIN { printf "%.2f M/s", n / w / 1e6 }')"
rm -rf "$W/g/state"; "$BIN" run --config "$W/g/sluice.yaml" --once 2>"$W/g.log"
GEN_LAT=$(grep -o 'p50 [0-9.]* ms, p99 [0-9.]* ms' "$W/g.log" | tail -n1)

# 2. JSONL file → blackhole, beside wc -l and cat.
daemon "$W/f" "source: { type: file, path: $W/in, watch: false }
queue: { max_records: 50000 }
sink: { type: blackhole, batch: { max_records: 10000 } }"
BEFORE="rm -rf $W/f/state" r=$(measure "$BIN" run --config "$W/f/sluice.yaml" --once)
read -r wcw _ _ <<<"$(BEFORE= measure wc -l "$IN")"
read -r catw _ _ <<<"$(BEFORE= measure cat "$IN")"
row "JSONL file → blackhole" "$N" "$BYTES" "$r" "≥ 1.5 M/s" "wc -l: $(awk -v b="$BYTES" -v w="$wcw" 'BEGIN { printf "%.0f MB/s", b / w / 1e6 }'), cat: $(awk -v b="$BYTES" -v w="$catw" 'BEGIN { printf "%.0f MB/s", b / w / 1e6 }')"

# 3. JSONL file → file sink with fsync, beside cat in > out; sync out.
daemon "$W/s" "source: { type: file, path: $W/in, watch: false }
sink: { type: file, path: $W/out, format: jsonl, roll: { max_bytes: 16GiB } }"
BEFORE="rm -rf $W/s/state $W/out" r=$(measure "$BIN" run --config "$W/s/sluice.yaml" --once)
read -r cpw _ _ <<<"$(BEFORE="rm -f $W/copy" measure sh -c "cat '$IN' > '$W/copy'; sync '$W/copy'")"
row "JSONL file → file (fsync)" "$N" "$BYTES" "$r" "≥ 0.5 × cat+sync MB/s" "cat in > out; sync out: $(awk -v b="$BYTES" -v w="$cpw" 'BEGIN { printf "%.0f MB/s", b / w / 1e6 }')"
rm -rf "$W/s/state" "$W/out"; "$BIN" run --config "$W/s/sluice.yaml" --once 2>"$W/s.log"
FILE_LAT=$(grep -o 'p50 [0-9.]* ms, p99 [0-9.]* ms' "$W/s.log" | tail -n1)
# The same with commits of up to 32 MiB: fewer fsyncs, at the price of memory and latency.
daemon "$W/t" "source: { type: file, path: $W/in, watch: false }
queue: { max_records: 200000, max_bytes: 256MiB }
sink: { type: file, path: $W/out, format: jsonl, roll: { max_bytes: 16GiB }, batch: { max_records: 250000, max_bytes: 32MiB, max_wait: 1s } }"
BEFORE="rm -rf $W/t/state $W/out" r=$(measure "$BIN" run --config "$W/t/sluice.yaml" --once)
row "JSONL file → file (fsync), 32 MiB batches" "$N" "$BYTES" "$r" "≥ 0.5 × cat+sync MB/s" "(same cat+sync as above)"
rm -rf "$W/out" "$W/copy"

# 4. Idle RSS: one slow pipeline into a file sink, after 5 s.
daemon "$W/i" "source: { type: generate, rate: 1 }
sink: { type: file, path: $W/idle }"
"$BIN" run --config "$W/i/sluice.yaml" 2>/dev/null & pid=$!
sleep 5
IDLE=$(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$pid/status)
kill -TERM $pid; wait $pid || true

echo
echo "| measure | value | goal |"
echo "|---|---|---|"
echo "| idle RSS (one pipeline, generate rate 1 → file) | $IDLE | ≤ 16 MiB |"
echo "| commit latency, generate → blackhole | $GEN_LAT | |"
echo "| commit latency, JSONL file → file with fsync | $FILE_LAT | |"
echo
echo "input: $N records, $BYTES bytes ($(awk -v b="$BYTES" -v n="$N" 'BEGIN { printf "%.0f", b / n }') bytes per record)"

# 5. Operations: metrics, tap, scraping 100 pipelines.
echo
bash tests/bench/operations_bench.sh "$N"
