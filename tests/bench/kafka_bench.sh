#!/usr/bin/env bash
# The kafka source and sink against kcat, on one Kafka mock cluster (librdkafka's, a real wire-protocol broker in a
# process of its own: build-bench/tests/sluice_kafka_mock) and the same topic for every reader. Prints a markdown table.
# Usage: bash tests/bench/kafka_bench.sh [messages]   (default 1000000; results go into docs/benchmarks.md by hand)
#
# - Reading: N messages of 200 bytes (JSON with padding, lz4-compressed by the producer) on 24 partitions.
#   kcat -C -e -o beginning -q > /dev/null (GNU time around it; and again with the source's queued.min.messages)
#   against sluiced kafka → blackhole and kafka → file
#   (JSONL, fsync per commit), each in a group of its own. sluiced runs `sluiced run` (the source never ends) until
#   /metrics shows all N records committed, polled every 20 ms. Its rate is counted from the moment its partitions
#   are assigned (the `kafka: assigned` log line): the ~3 s the group coordinator takes to form a new group is a
#   one-time cost kcat's group-less assign does not have; the wall time from start is shown beside it.
# - Writing: the same N generated records (~150 bytes) by kcat -P from a file (lz4, idempotent, acks=all), again
#   with one header per message like the one the sink writes, and by sluiced generate → kafka (lz4, idempotent,
#   acks=all, keyless like kcat's; with 50,000-record batches, again with 250,000, and with the defaults), each
#   into a topic of 48 partitions. And the floor under generate → kafka: librdkafka alone producing the file's lines,
#   read into memory first, with the sink's settings, calls and header (kafka_produce_floor_bench), and without the header.
# Each measurement is repeated REPS times (default 5), interleaved, and the median (by rate) reported; never two at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
REPS=${REPS:-5}
bash scripts/setup.sh >/dev/null
# The mock cluster tool is built with the tests: other benchmarks configure the same directory without them.
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF -DSLUICE_BENCH=ON -DSLUICE_TESTS=ON \
  -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target sluiced sluice_kafka_mock kafka_produce_floor_bench >/dev/null
BIN=${SLUICED:-$PWD/build-bench/daemon/sluiced}
MOCK=$PWD/build-bench/tests/sluice_kafka_mock
FLOOR=$PWD/build-bench/tests/bench/kafka_produce_floor_bench
command -v kcat >/dev/null || { echo "kcat is not installed: scripts/setup.sh installs it" >&2; exit 1; }

W=$(mktemp -d /tmp/sluice-kafka-bench.XXXXXX)
MOCK_PID=
cleanup() {
  [[ -n $MOCK_PID ]] && kill "$MOCK_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# The cluster lives as long as its stdin stays open.
mkfifo "$W/mock.in"
TOPICS=(--topic bench:24)
for ((i = 1; i <= REPS; i++)); do TOPICS+=(--topic "kcatp-$i:48" --topic "kcatph-$i:48" --topic "sluicep-$i:48" --topic "sluicepb-$i:48" --topic "sluicepd-$i:48" --topic "floor-$i:48" --topic "floorn-$i:48"); done
"$MOCK" --brokers 3 "${TOPICS[@]}" --produce "bench:$N:200" <"$W/mock.in" >"$W/mock.out" 2>"$W/mock.err" &
MOCK_PID=$!
exec 3>"$W/mock.in"
for ((i = 0; i < 600; i++)); do [[ -s $W/mock.out ]] && break; sleep 0.1; done
B=$(head -n1 "$W/mock.out")
[[ -n $B ]] || { echo "the mock cluster did not start:" >&2; cat "$W/mock.err" >&2; exit 1; }
echo "sluice kafka benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $N messages, mock cluster at $B" >&2

median() { sort -g -k1,1 | sed -n "$(((REPS + 1) / 2))p"; }


daemon() { # DIR PIPELINE-YAML
  rm -rf "$1"; mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nlog: { level: info }\nhttp: { listen: 127.0.0.1:0 }\n' "$1" "$1" >"$1/sluice.yaml"
  printf '%s\n' "$2" >"$1/pipelines/p.yaml"
}
gnu_time() { # command...: prints "wall wall cpu maxrss" like sluice_read
  /usr/bin/time -f '%e %e %U %S %M' "$@" 2>&1 >/dev/null | tail -n1 | awk '{ printf "%s %s %.2f %s\n", $1, $2, $3 + $4, $5 }'
}

# --- reading -------------------------------------------------------------------------------------------------
kcat_read() { gnu_time kcat -C -b "$B" -t bench -e -o beginning -q "$@"; }
sluice_read() { # KIND(hole|file) REP
  local d=$W/read-$1-$2 sink
  if [[ $1 == file ]]; then sink="{ type: file, path: $d/out, format: jsonl, roll: { max_bytes: 1GiB }, batch: { max_records: 20000, max_bytes: 8MiB } }"
  else sink="{ type: blackhole, batch: { max_records: 20000, max_bytes: 8MiB } }"; fi
  daemon "$d" "source: { type: kafka, brokers: \"$B\", topics: [bench], group_id: bench-$1-$2 }
queue: { max_records: 100000, max_bytes: 64MiB }
sink: $sink"
  local r
  r=$(python3 tests/bench/run_sluiced.py "$BIN" "$d/sluice.yaml" "$d/state" "$N" "$d/sluiced.log" --poll 0.02 \
    --from-line "kafka: assigned") || exit 1
  cut -d' ' -f1-4 <<<"$r"  # rate_wall total_wall cpu vmhwm
  if [[ $1 == file ]]; then
    local lines; lines=$(cat "$d"/out/*.jsonl | wc -l)
    [[ $lines == "$N" ]] || { echo "kafka → file wrote $lines lines, not $N" >&2; exit 1; }
  fi
  rm -rf "$d"
}
KCAT_R=() KCAT_T=() HOLE=() FILE=()
for ((i = 1; i <= REPS; i++)); do
  KCAT_R+=("$(kcat_read)"); echo "  kcat -C: ${KCAT_R[-1]}" >&2
  # The source sets queued.min.messages so (librdkafka 2.0.2 compares it with the whole consumer queue, not a
  # partition's, and pauses fetching for a second once it is passed): kcat tuned the same way.
  KCAT_T+=("$(kcat_read -X queued.min.messages=1000000)"); echo "  kcat -C, tuned: ${KCAT_T[-1]}" >&2
  HOLE+=("$(sluice_read hole "$i")"); echo "  kafka → blackhole: ${HOLE[-1]}" >&2
  FILE+=("$(sluice_read file "$i")"); echo "  kafka → file: ${FILE[-1]}" >&2
done

# --- writing -------------------------------------------------------------------------------------------------
daemon "$W/mk" "source: { type: generate, count: $N, seed: 1 }
sink: { type: file, path: $W/gen, format: jsonl, fsync: false, roll: { max_bytes: 16GiB } }"
"$BIN" run --config "$W/mk/sluice.yaml" --once 2>/dev/null
IN=$(ls "$W"/gen/*.jsonl)
GEN_BYTES=$(stat -c %s "$IN")
cat "$IN" >/dev/null
kcat_write() { # REP TOPIC [kcat options]
  # One message per line from stdin (a file argument would be sent as one message).
  local rep=$1 topic=$2; shift 2
  gnu_time kcat -P -b "$B" -t "$topic-$rep" -z lz4 -X enable.idempotence=true -X acks=all -X linger.ms=5 "$@" <"$IN"
}
# Every message of the kafka sink carries one header (its origin, ~85 bytes for these records); kcat can add the
# same header to every message, which shows what the header alone costs librdkafka.
ORIGIN_HEADER='sluice=p|2b313eb5c61614b24140f32228d1275b|generate|123456|1024 1023000000 1796643486064'
sluice_write() { # REP TOPIC BATCH_RECORDS BATCH_BYTES QUEUE_RECORDS QUEUE_BYTES
  local d=$W/write-$1
  daemon "$d" "source: { type: generate, count: $N, seed: 1 }
queue: { max_records: $5, max_bytes: $6 }
sink: { type: kafka, brokers: \"$B\", topic: $2, batch: { max_records: $3, max_bytes: $4 } }"
  /usr/bin/time -f '%e %U %S %M' -o "$d/time" "$BIN" run --config "$d/sluice.yaml" --once 2>"$d/sluiced.log" || { cat "$d/sluiced.log" >&2; exit 1; }
  grep -q "$N committed" "$d/sluiced.log" || { echo "generate → kafka did not commit $N records" >&2; tail "$d/sluiced.log" >&2; exit 1; }
  awk '{ printf "%s %s %.2f %s\n", $1, $1, $2 + $3, $4 }' "$d/time"
  rm -rf "$d"
}
floor_write() { # REP TOPIC [--no-header]: prints "wall wall cpu maxrss" like gnu_time
  local rep=$1 topic=$2; shift 2
  "$FLOOR" "$B" "$topic-$rep" "$IN" "$@" | awk '{ print $1, $1, $2, $3 }'
}
KCAT_W=() KCAT_WH=() GENK=() GENK_BIG=() GENK_DEF=() FLOOR_H=() FLOOR_N=()
for ((i = 1; i <= REPS; i++)); do
  KCAT_W+=("$(kcat_write "$i" kcatp)"); echo "  kcat -P: ${KCAT_W[-1]}" >&2
  KCAT_WH+=("$(kcat_write "$i" kcatph -H "$ORIGIN_HEADER")"); echo "  kcat -P with a header: ${KCAT_WH[-1]}" >&2
  GENK+=("$(sluice_write "$i" "sluicep-$i" 50000 16MiB 100000 64MiB)"); echo "  generate → kafka: ${GENK[-1]}" >&2
  # Each commit waits for the last acknowledgement of its batch before the next batch is produced: fewer,
  # bigger batches wait less often, for more memory and a longer commit.
  GENK_BIG+=("$(sluice_write "$i" "sluicepb-$i" 250000 64MiB 500000 256MiB)"); echo "  generate → kafka, big batches: ${GENK_BIG[-1]}" >&2
  # The pipeline defaults (batch 5,000 records / 4 MiB, queue 10,000 / 64 MiB): what a user gets untuned.
  GENK_DEF+=("$(sluice_write "$i" "sluicepd-$i" 5000 4MiB 10000 64MiB)"); echo "  generate → kafka, default batches: ${GENK_DEF[-1]}" >&2
  FLOOR_H+=("$(floor_write "$i" floor)"); echo "  librdkafka alone, with the header: ${FLOOR_H[-1]}" >&2
  FLOOR_N+=("$(floor_write "$i" floorn --no-header)"); echo "  librdkafka alone, no header: ${FLOOR_N[-1]}" >&2
done

pick() { printf '%s\n' "$@" | median; }
row() { # name "rate_wall total_wall cpu rss" bytes_per_msg goal baseline
  read -r w t c m <<<"$2"
  awk -v name="$1" -v n="$N" -v w="$w" -v t="$t" -v c="$c" -v m="$m" -v b="$3" -v g="$4" -v base="$5" 'BEGIN {
    printf "| %s | %.0fk msg/s | %.0f MB/s | %.1f s | %.2f | %.2f | %.1f MiB | %s | %s |\n", name, n / w / 1e3, n * b / w / 1e6, t, c / (n / 1e6), c / t, m / 1024, g, base }'
}
ratio() { read -r a _ <<<"$1"; read -r b _ <<<"$2"; awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'; }
KR=$(pick "${KCAT_R[@]}") KT=$(pick "${KCAT_T[@]}") H=$(pick "${HOLE[@]}") F=$(pick "${FILE[@]}") KW=$(pick "${KCAT_W[@]}") KWH=$(pick "${KCAT_WH[@]}") G=$(pick "${GENK[@]}") GBIG=$(pick "${GENK_BIG[@]}") GDEF=$(pick "${GENK_DEF[@]}") FH=$(pick "${FLOOR_H[@]}") FN=$(pick "${FLOOR_N[@]}")
GB=$(awk -v b="$GEN_BYTES" -v n="$N" 'BEGIN { printf "%.0f", b / n }')
echo
# Cores busy: the process's CPU time over its wall time from start (the mock cluster's own CPU not counted).
echo "| scenario | messages/s | MB/s | wall from start | CPU s per M msgs | cores busy | peak RSS | goal | ratio to kcat (same run) |"
echo "|---|---|---|---|---|---|---|---|---|"
row "kcat -C -e -o beginning -q > /dev/null" "$KR" 200 "baseline" ""
row "the same with -X queued.min.messages=1000000" "$KT" 200 "tuned baseline" ""
row "kafka → blackhole" "$H" 200 "≥ 0.9 × kcat -C" "$(ratio "$KR" "$H") (tuned: $(ratio "$KT" "$H"))"
row "kafka → file (JSONL, fsync per commit)" "$F" 200 "≥ 0.7 × kcat -C" "$(ratio "$KR" "$F") (tuned: $(ratio "$KT" "$F"))"
row "kcat -P from a file (lz4, idempotent, acks=all)" "$KW" "$GB" "baseline" ""
row "the same with one ~85-byte header per message (-H), as the sink writes" "$KWH" "$GB" "reference" "$(ratio "$KW" "$KWH")"
row "generate → kafka (lz4, idempotent, acks=all)" "$G" "$GB" "≥ 0.9 × kcat -P" "$(ratio "$KW" "$G") (with a header: $(ratio "$KWH" "$G"))"
row "the same with 250,000-record batches" "$GBIG" "$GB" "" "$(ratio "$KW" "$GBIG")"
row "the same with the default batches (5,000 records, queue 10,000)" "$GDEF" "$GB" "" "$(ratio "$KW" "$GDEF")"
row "librdkafka alone as the sink calls it, lines in memory, with the sink's header (the floor)" "$FH" "$GB" "" "$(ratio "$KW" "$FH") (sluice against it: $(ratio "$FH" "$G"))"
row "the same without the header" "$FN" "$GB" "" "$(ratio "$KW" "$FN")"
echo
echo "$N messages; reading: 200-byte JSON values on 24 partitions (3 mock brokers), lz4-compressed by the producer;" \
  "writing: $GB-byte generated records into 48 partitions; median of $REPS runs; sluice's readers are counted from" \
  "their group assignment to the last commit (wall from start beside it), kcat's from its start; CPU and peak RSS" \
  "are the client's alone (the mock brokers run in their own process)."
