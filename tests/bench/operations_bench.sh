#!/usr/bin/env bash
# What operating sluiced costs: metrics scraped hard, a live tap, and scraping 100 pipelines. Each beside its
# baseline in the same run. Prints markdown tables.
# Usage: bash tests/bench/operations_bench.sh [records]   (default 10000000; run_benchmarks.sh calls it)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000000}
REPS=3
if [[ ! -x build-bench/daemon/sluiced ]]; then
  bash scripts/setup.sh >/dev/null
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF -DSLUICE_TESTS=OFF \
    -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
fi
cmake --build build-bench -j"$(nproc)" >/dev/null
BIN=$PWD/build-bench/daemon/sluiced
W=$(mktemp -d /tmp/sluice-opsbench.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$W"' EXIT

daemon_file() { # DIR LISTEN
  mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nlog: { level: info }\nhttp: { listen: "%s" }\n' "$1" "$1" "$2" >"$1/sluice.yaml"
}
address() { # DIR: waits for the daemon's bound address
  for _ in $(seq 100); do [[ -s "$1/state/http.address" ]] && { cat "$1/state/http.address"; return; }; sleep 0.05; done
  echo "no http.address in $1/state" >&2; exit 1
}
median() { sort -n | sed -n "$(((REPS + 1) / 2))p"; }

# One run of DIR's pipeline with --once, optionally with a companion command (scraper or tap) started once the
# listener is up; prints "wall_s cpu_s" of sluiced alone (the companion's CPU is its own process's).
run_once() { # DIR COMPANION...
  local dir=$1; shift
  rm -rf "$dir/state" "$dir/out"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$dir/time" "$BIN" run --config "$dir/sluice.yaml" --once 2>"$dir/log" &
  local pid=$!
  local companion=
  if (($#)); then
    local a; a=$(address "$dir")
    ADDR=$a bash -c "$*" >/dev/null 2>&1 & companion=$!
  fi
  wait $pid
  end=$(date +%s.%N)
  [[ -n "$companion" ]] && { kill $companion 2>/dev/null || true; wait $companion 2>/dev/null || true; }
  awk -v s="$start" -v e="$end" '{ printf "%.3f %.2f\n", e - s, $1 + $2 }' "$dir/time"
}
measure() { # DIR COMPANION...: median of REPS runs by wall time
  local i samples=()
  for ((i = 0; i < REPS; i++)); do samples+=("$(run_once "$@")"); done
  printf '%s\n' "${samples[@]}" | median
}
row() { # name "wall cpu" baseline-"wall cpu" goal
  read -r w c <<<"$2"; read -r bw bc <<<"$3"
  awk -v n="$1" -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" -v N="$N" -v g="$4" 'BEGIN {
    printf "| %s | %.2f M/s | %.2f | %.2f M/s | %.2f | %+.1f%% | %s |\n", n, N / w / 1e6, c / (N / 1e6), N / bw / 1e6, bc / (N / 1e6), (w / bw - 1) * 100, g }'
}

echo "| scenario | records/s | CPU s per M | baseline records/s | baseline CPU s per M | throughput cost | goal |"
echo "|---|---|---|---|---|---|---|"

# 1. Metrics: generate → blackhole with the listener off, and with it on and scraped every 100 ms (ten times
#    more often than anyone scrapes).
for d in m-off m-on; do
  daemon_file "$W/$d" "$([[ $d == m-off ]] && echo "" || echo 127.0.0.1:0)"
  printf 'source: { type: generate, count: %s }\nqueue: { max_records: 50000 }\nsink: { type: blackhole, batch: { max_records: 10000 } }\n' "$N" >"$W/$d/pipelines/p.yaml"
done
# Interleaved so that drift in the machine's speed hits both alike.
off=(); on=()
for ((i = 0; i < REPS; i++)); do
  off+=("$(run_once "$W/m-off")")
  on+=("$(run_once "$W/m-on" 'while curl -sf "$ADDR/metrics" >/dev/null; do sleep 0.1; done')")
done
row "generate → blackhole, /metrics scraped every 100 ms" "$(printf '%s\n' "${on[@]}" | median)" "$(printf '%s\n' "${off[@]}" | median)" "cost ≤ 3%"

# 2. Tap: a pipeline paced at 1M records/s into a file sink, with a `sluiced tap` reading it all along, at the
#    default sampling rate and at the most a reader may ask for.
daemon_file "$W/t" 127.0.0.1:0
printf 'source: { type: generate, count: %s, rate: 1000000 }\nqueue: { max_records: 50000 }\nsink: { type: file, path: %s/t/out, batch: { max_records: 10000 } }\n' "$N" "$W" >"$W/t/pipelines/p.yaml"
plain=(); tapped=(); flood=()
for ((i = 0; i < REPS; i++)); do
  plain+=("$(run_once "$W/t")")
  tapped+=("$(run_once "$W/t" "$BIN tap p --url \$ADDR")")
  flood+=("$(run_once "$W/t" "$BIN tap p --rate 1000000 --url \$ADDR")")
done
base=$(printf '%s\n' "${plain[@]}" | median)
row "generate (1M/s) → file, sluiced tap at its default 1000/s" "$(printf '%s\n' "${tapped[@]}" | median)" "$base" "cost ≤ 5%"
row "generate (1M/s) → file, sluiced tap --rate 1000000" "$(printf '%s\n' "${flood[@]}" | median)" "$base" "(worst case)"

# 3. Scrape latency with 100 pipelines, while they run.
daemon_file "$W/h" 127.0.0.1:0
for i in $(seq -w 1 100); do
  printf 'source: { type: generate, rate: 200 }\nsink: { type: blackhole }\n' >"$W/h/pipelines/p$i.yaml"
done
"$BIN" run --config "$W/h/sluice.yaml" 2>"$W/h/log" & pids+=($!)
a=$(address "$W/h")
sleep 3
for _ in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "$a/metrics"; done | sort -n >"$W/h/times"
size=$(curl -s "$a/metrics" | wc -c)
series=$(curl -s "$a/metrics" | grep -vc '^#')
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || true
echo
echo "| /metrics with 100 running pipelines (200 scrapes) | value | goal |"
echo "|---|---|---|"
awk -v size="$size" -v series="$series" '{ t[NR] = $1 } END {
  printf "| median | %.1f ms | |\n| p99 | %.1f ms | < 50 ms |\n| max | %.1f ms | |\n| body | %.0f KiB, %d samples | |\n",
    t[int(NR * 0.5)] * 1e3, t[int(NR * 0.99)] * 1e3, t[NR] * 1e3, size / 1024, series }' "$W/h/times"
