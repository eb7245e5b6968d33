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
SECTIONS=${SECTIONS:-metrics tap scrape}   # which sections to run, e.g. SECTIONS=metrics

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

if [[ " $SECTIONS " == *" metrics "* ]]; then
# 1. Metrics: generate → blackhole with the listener off; on but not scraped; and on, scraped every second
#    (Prometheus is usually set to 15 s or more) over one keep-alive connection, as Prometheus does. Single
#    runs on these 2-vCPU machines vary by ±8%, more than the effect sought, so the arms are interleaved, run
#    9 times each, and reported as mean ± standard error; the CPU a scrape costs is also measured directly.
for d in m-off m-on m-scraped; do
  daemon_file "$W/$d" "$([[ $d == m-off ]] && echo "" || echo 127.0.0.1:0)"
  printf 'source: { type: generate, count: %s }\nqueue: { max_records: 50000 }\nsink: { type: blackhole, batch: { max_records: 10000 } }\n' "$N" >"$W/$d/pipelines/p.yaml"
done
cat >"$W/scrape.py" <<'PY'
import http.client, os, sys, time
host, port = os.environ["ADDR"].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=5)
while True:
    conn.request("GET", "/metrics")
    conn.getresponse().read()
    time.sleep(1.0)
PY
for ((i = 0; i < 9; i++)); do
  for d in m-off m-on m-scraped; do
    if [[ $d == m-scraped ]]; then echo "$d $(run_once "$W/$d" "python3 $W/scrape.py")"; else echo "$d $(run_once "$W/$d")"; fi
  done
done >"$W/metrics-samples"
awk -v N="$N" '{ n[$1]++; w[$1] += $2; ww[$1] += $2 * $2; c[$1] += $3 }
  END {
    for (k in n) { mw[k] = w[k] / n[k]; se[k] = sqrt((ww[k] / n[k] - mw[k] ^ 2) / (n[k] - 1)) }
    split("m-on m-scraped", arms, " ")
    names["m-on"] = "generate → blackhole, listener on, not scraped"
    names["m-scraped"] = "generate → blackhole, /metrics scraped every second"
    for (i = 1; i <= 2; i++) {
      k = arms[i]
      printf "| %s | %.2f M/s (±%.1f%%) | %.2f | %.2f M/s (±%.1f%%) | %.2f | %+.1f%% | cost ≤ 3%% |\n", names[k], N / mw[k] / 1e6, se[k] / mw[k] * 100,
        c[k] / n[k] / (N / 1e6), N / mw["m-off"] / 1e6, se["m-off"] / mw["m-off"] * 100, c["m-off"] / n["m-off"] / (N / 1e6), (mw[k] / mw["m-off"] - 1) * 100
    }
  }' "$W/metrics-samples"
fi

if [[ " $SECTIONS " == *" tap "* ]]; then
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
fi

if [[ " $SECTIONS " == *" scrape "* ]]; then
# 3. Scrape latency with 100 pipelines, while they run.
daemon_file "$W/h" 127.0.0.1:0
for i in $(seq -w 1 100); do
  printf 'source: { type: generate, rate: 200 }\nsink: { type: blackhole }\n' >"$W/h/pipelines/p$i.yaml"
done
"$BIN" run --config "$W/h/sluice.yaml" 2>"$W/h/log" & pids+=($!)
a=$(address "$W/h")
sleep 3
for _ in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "$a/metrics"; done | sort -n >"$W/h/times"
cat >"$W/cpu_per_scrape.py" <<'PY'
import http.client, os, sys, time
host, port = os.environ["ADDR"].rsplit(":", 1)
pid = sys.argv[1]
def cpu():
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
conn = http.client.HTTPConnection(host, int(port), timeout=5)
t0, c0 = time.time(), cpu()
time.sleep(5)
idle_rate = (cpu() - c0) / (time.time() - t0)  # what the 100 pipelines cost without scrapes
n = 500
t0, c0 = time.time(), cpu()
for _ in range(n):
    conn.request("GET", "/metrics")
    conn.getresponse().read()
wall = time.time() - t0
print("%.2f" % (((cpu() - c0) - idle_rate * wall) / n * 1e3))
PY
cpu_ms=$(ADDR=$a python3 "$W/cpu_per_scrape.py" "${pids[-1]}")
size=$(curl -s "$a/metrics" | wc -c)
series=$(curl -s "$a/metrics" | grep -vc '^#')
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || true
echo
echo "| /metrics with 100 running pipelines (200 scrapes) | value | goal |"
echo "|---|---|---|"
awk -v size="$size" -v series="$series" -v cpu="$cpu_ms" '{ t[NR] = $1 } END {
  printf "| median | %.1f ms | |\n| p99 | %.1f ms | < 50 ms |\n| max | %.1f ms | |\n| body | %.0f KiB, %d samples | |\n| sluiced CPU per scrape | %.2f ms | |\n",
    t[int(NR * 0.5)] * 1e3, t[int(NR * 0.99)] * 1e3, t[NR] * 1e3, size / 1024, series, cpu }' "$W/h/times"
fi
