#!/usr/bin/env bash
# The file sink's and file source's Parquet against DuckDB (threads = 1) on the same inputs, in the same run.
# Prints markdown tables.
# Usage: bash tests/bench/parquet_bench.sh [records]   (default 2000000; results go into docs/benchmarks.md by hand)
#
# Two data sets, both JSON lines written before anything is measured:
# - narrow: N records of sluiced's generate source (seq, ts, key, 64-byte random payload; ~140 bytes a line);
# - wide: WIDE_N (default N/2) records of 13 fields made by DuckDB from hashes of the row number: integers,
#   doubles (one half null), RFC 3339 timestamps with microseconds, dates, low-cardinality strings, booleans, a
#   list of strings, a nullable free-text string (~254 bytes a line).
# Measured, each REPS times (default 3), interleaved, median by wall time:
# - JSONL → Parquet (zstd): DuckDB `COPY (FROM read_json(…)) TO … (FORMAT parquet, COMPRESSION zstd)` against
#   sluiced file (jsonl) → file sink format: parquet, once with `schema: infer` and once with declared columns;
# - Parquet → JSONL: DuckDB `COPY (FROM read_parquet(…)) TO 'out.json'` against sluiced file (parquet) → file
#   sink format: jsonl, each on a file DuckDB wrote (zstd, its default row groups) and one sluice wrote (declared
#   columns, zstd, 64 MiB row groups);
# - sluiced's peak RSS reading a file whose one row group is ~128 MiB compressed, written by DuckDB
#   (ROW_GROUP_SIZE in rows) and by sluice (row_group_bytes: 128MiB); and, from the writing runs, while writing
#   64 MiB row groups (the default).
# sluiced runs `sluiced run --once` under GNU time (wall from exec to exit, user + system CPU, peak RSS): start-up
# (RocksDB), every commit, the footer and the rename of the finished part included. DuckDB runs in
# tests/bench/duckdb_timed.mjs, which times the one COPY statement inside its node process (node's and DuckDB's
# start-up excluded), with the process's CPU and its peak RSS during the statement (node's own ~94 MiB included).
# Both sides write without fsync: sluiced's sinks have `fsync: false` (its RocksDB commit stays synchronous),
# DuckDB never fsyncs. Input files are read once before measuring, so every reader finds them in the page cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000000}
WIDE_N=${WIDE_N:-$((N / 2))}
REPS=${REPS:-3}
# The pipeline settings every sluiced run uses (the peak-RSS budget is QUEUE_BYTES + 96 MiB).
QUEUE_RECORDS=${QUEUE_RECORDS:-100000}
QUEUE_BYTES=${QUEUE_BYTES:-64MiB}
BATCH="{ max_records: 20000, max_bytes: 8MiB }"
bash scripts/setup.sh >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CRASH_POINTS=OFF -DSLUICE_BENCH=ON \
  -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target sluiced >/dev/null
BIN=${SLUICED:-$PWD/build-bench/daemon/sluiced}
DUCK=(node tests/bench/duckdb_timed.mjs)
ORACLE=(node tests/oracles/parquet_oracle.mjs)

W=$(mktemp -d /tmp/sluice-parquet-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
echo "sluice parquet benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $N narrow and $WIDE_N wide records, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, in $W" >&2

daemon() { # DIR PIPELINE-YAML
  rm -rf "$1"; mkdir -p "$1/pipelines"
  printf 'state_dir: %s/state\npipelines_dir: %s/pipelines\nlog: { level: info }\nhttp: { listen: 127.0.0.1:0 }\n' "$1" "$1" >"$1/sluice.yaml"
  printf '%s\n' "$2" >"$1/pipelines/p.yaml"
}
die() { echo "parquet_bench: $*" >&2; exit 1; }
# sluiced run --once on DIR's pipeline; prints "wall cpu maxrss_kb"; checks that RECORDS records were committed.
sluiced_once() { # DIR RECORDS
  /usr/bin/time -f '%e %U %S %M' -o "$1/time" "$BIN" run --config "$1/sluice.yaml" --once 2>"$1/sluiced.log" \
    || { tail -n 20 "$1/sluiced.log" >&2; die "sluiced failed in $1"; }
  grep -q "$2 records in, $2 committed" "$1/sluiced.log" || { tail -n 5 "$1/sluiced.log" >&2; die "sluiced in $1 did not commit $2 records"; }
  grep -q " 0 dead-lettered" "$1/sluiced.log" || die "sluiced in $1 dead-lettered records (see $1/sluiced.log)"
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$1/time"
}
parquet_rows() { # FILE: rows in its footer
  "${ORACLE[@]}" meta "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["num_rows"])'
}
row_groups() { # FILE: "rows/compressed MiB" of each row group
  "${ORACLE[@]}" meta "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(", ".join("%d rows/%.1f MiB (%.1f MiB decoded)" % (g["num_rows"], int(g["compressed_size"]) / 2**20, int(g["total_byte_size"]) / 2**20) for g in m["row_groups"]))'
}
one_parquet() { # DIR: its single finished part
  local f; f=$(ls "$1"/*.parquet)
  [[ $(wc -l <<<"$f") == 1 ]] || die "$1 holds more than one part: $f"
  echo "$f"
}

# --- inputs -----------------------------------------------------------------------------------------------------
mkdir -p "$W/in/narrow" "$W/in/wide"
daemon "$W/mk" "source: { type: generate, count: $N, seed: 1, start_time: '2026-01-05T00:00:00Z' }
sink: { type: file, path: $W/gen, format: jsonl, fsync: false, roll: { max_bytes: 16GiB } }"
"$BIN" run --config "$W/mk/sluice.yaml" --once 2>/dev/null
mv "$W"/gen/*.jsonl "$W/in/narrow/narrow.jsonl"
"${ORACLE[@]}" duckdb-sql "COPY (
  SELECT
    i AS id,
    (hash(i, 1) % 1000000)::BIGINT AS user_id,
    strftime(TIMESTAMP '2026-01-05 00:00:00' + to_microseconds((i * 1000 + hash(i, 2) % 1000)::BIGINT), '%Y-%m-%dT%H:%M:%S.%fZ') AS ts,
    strftime(DATE '2026-01-05' + (i // 100000)::INTEGER, '%Y-%m-%d') AS day,
    (hash(i, 3) % 20 + 1)::INTEGER AS qty,
    round((hash(i, 4) % 100000) / 100.0, 2)::DOUBLE AS price,
    CASE WHEN hash(i, 5) % 2 = 0 THEN NULL ELSE round((hash(i, 6) % 5000) / 10000.0, 4) END AS discount,
    (hash(i, 7) % 1000000007) / 1000000007.0 AS score,
    ['DE','FR','US','GB','NL','ES','IT','PL','SE','JP','BR','IN','CA','AU','CH','AT','BE','DK','NO','FI'][(hash(i, 8) % 20 + 1)::INTEGER] AS country,
    ['new','paid','shipped','delivered','returned'][(hash(i, 9) % 5 + 1)::INTEGER] AS status,
    hash(i, 10) % 3 = 0 AS gift,
    list_transform(range((hash(i, 11) % 4)::BIGINT), x -> 'tag-' || (hash(i, 12 + x) % 50)::VARCHAR) AS tags,
    CASE WHEN hash(i, 13) % 4 = 0 THEN NULL ELSE 'order note ' || md5(i::VARCHAR)[1:(hash(i, 14) % 24 + 8)::INTEGER] END AS note
  FROM range($WIDE_N) t(i)
) TO '$W/in/wide/wide.jsonl' (FORMAT json)" >/dev/null
declare -A RECORDS=([narrow]=$N [wide]=$WIDE_N) BYTES COLUMNS
for d in narrow wide; do BYTES[$d]=$(stat -c %s "$W/in/$d/$d.jsonl"); done
COLUMNS[narrow]="
    - { name: seq, type: int64 }
    - { name: ts, type: 'timestamp(ms, utc)' }
    - { name: key, type: string }
    - { name: payload, type: string }"
COLUMNS[wide]="
    - { name: id, type: int64 }
    - { name: user_id, type: int64 }
    - { name: ts, type: 'timestamp(us, utc)' }
    - { name: day, type: date }
    - { name: qty, type: int32 }
    - { name: price, type: double }
    - { name: discount, type: double }
    - { name: score, type: double }
    - { name: country, type: string }
    - { name: status, type: string }
    - { name: gift, type: bool }
    - { name: tags, type: 'list<string>' }
    - { name: note, type: string }"

# JSONL → Parquet by sluiced into DIR/out; SCHEMA is infer or declared; extra sink keys after.
sluice_write_cfg() { # DIR DATASET SCHEMA [EXTRA-SINK-KEYS] [INPUT-DIR]
  local schema="schema: infer"
  [[ $3 == declared ]] && schema="columns:${COLUMNS[$2]}"
  daemon "$1" "source: { type: file, path: ${5:-$W/in/$2}, format: jsonl, watch: false }
queue: { max_records: $QUEUE_RECORDS, max_bytes: $QUEUE_BYTES }
sink:
  type: file
  path: $1/out
  format: parquet
  compression: zstd
  fsync: false
  roll: { max_bytes: 16GiB }
  batch: $BATCH
  ${4:+$4
  }$schema"
}
sluice_read_cfg() { # DIR INPUT-DIR
  daemon "$1" "source: { type: file, path: $2, format: parquet, watch: false }
queue: { max_records: $QUEUE_RECORDS, max_bytes: $QUEUE_BYTES }
sink: { type: file, path: $1/out, format: jsonl, fsync: false, roll: { max_bytes: 16GiB }, batch: $BATCH }"
}

# Parquet inputs for the readers: one by DuckDB (zstd, its default row groups of 122,880 rows), one by sluiced
# (declared columns, zstd, 64 MiB row groups), each alone in a directory.
for d in narrow wide; do
  mkdir -p "$W/pq/duck-$d" "$W/pq/sluice-$d"
  "${ORACLE[@]}" duckdb-sql "COPY (FROM read_json('$W/in/$d/$d.jsonl')) TO '$W/pq/duck-$d/$d.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
  sluice_write_cfg "$W/mkpq" "$d" declared
  sluiced_once "$W/mkpq" "${RECORDS[$d]}" >/dev/null
  mv "$(one_parquet "$W/mkpq/out")" "$W/pq/sluice-$d/$d.parquet"
  for w in duck sluice; do
    [[ $(parquet_rows "$W/pq/$w-$d/$d.parquet") == "${RECORDS[$d]}" ]] || die "$w-$d.parquet does not hold ${RECORDS[$d]} rows"
  done
done
# Files with one row group of ~128 MiB (compressed): R narrow records, R chosen from the DuckDB-written narrow
# file's bytes per row.
R=$(awk -v s="$(stat -c %s "$W/pq/duck-narrow/narrow.parquet")" -v n="$N" 'BEGIN { printf "%d", 128 * 2^20 / (s / n) + 1 }')
daemon "$W/mk" "source: { type: generate, count: $R, seed: 2, start_time: '2026-01-05T00:00:00Z' }
sink: { type: file, path: $W/gen128, format: jsonl, fsync: false, roll: { max_bytes: 16GiB } }"
"$BIN" run --config "$W/mk/sluice.yaml" --once 2>/dev/null
mkdir -p "$W/in/big" "$W/pq/duck-big" "$W/pq/sluice-big"
mv "$W"/gen128/*.jsonl "$W/in/big/big.jsonl"
"${ORACLE[@]}" duckdb-sql "COPY (FROM read_json('$W/in/big/big.jsonl')) TO '$W/pq/duck-big/big.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE $R)" >/dev/null
sluice_write_cfg "$W/mkpq" narrow declared "row_group_bytes: 128MiB" "$W/in/big"
sluiced_once "$W/mkpq" "$R" >/dev/null
mv "$(one_parquet "$W/mkpq/out")" "$W/pq/sluice-big/big.parquet"
rm -rf "$W/in/big" "$W/mkpq"
RG_DUCK_BIG=$(row_groups "$W/pq/duck-big/big.parquet")
RG_SLUICE_BIG=$(row_groups "$W/pq/sluice-big/big.parquet")
RG_SLUICE_NARROW=$(row_groups "$W/pq/sluice-narrow/narrow.parquet")
echo "  128 MiB row groups: DuckDB's file $RG_DUCK_BIG; sluice's $RG_SLUICE_BIG" >&2
echo "  sluice's narrow file (64 MiB row groups): $RG_SLUICE_NARROW" >&2
cat "$W"/in/*/*.jsonl "$W"/pq/*/*.parquet >/dev/null

# --- the measurements -------------------------------------------------------------------------------------------
# Each prints "wall cpu rss_kb output_bytes".
duck_write() { # DATASET
  local r out=$W/duck-out.parquet
  r=$("${DUCK[@]}" "COPY (FROM read_json('$W/in/$1/$1.jsonl')) TO '$out' (FORMAT parquet, COMPRESSION zstd)")
  [[ $(parquet_rows "$out") == "${RECORDS[$1]}" ]] || die "DuckDB's $1 Parquet file does not hold ${RECORDS[$1]} rows"
  echo "$r $(stat -c %s "$out")"; rm -f "$out"
}
sluice_write() { # DATASET SCHEMA
  local d=$W/w-$1-$2 r f
  sluice_write_cfg "$d" "$1" "$2"
  r=$(sluiced_once "$d" "${RECORDS[$1]}")
  f=$(one_parquet "$d/out")  # schema: infer must not have split the output
  [[ $(parquet_rows "$f") == "${RECORDS[$1]}" ]] || die "sluiced's $1 Parquet file does not hold ${RECORDS[$1]} rows"
  echo "$r $(stat -c %s "$f")"; rm -rf "$d"
}
duck_read() { # INPUT(e.g. duck-narrow) RECORDS
  local r out=$W/duck-out.json
  r=$("${DUCK[@]}" "COPY (FROM read_parquet('$(ls "$W/pq/$1"/*.parquet)')) TO '$out'")
  [[ $(wc -l <"$out") == "$2" ]] || die "DuckDB wrote $(wc -l <"$out") lines from $1, not $2"
  echo "$r $(stat -c %s "$out")"; rm -f "$out"
}
sluice_read() { # INPUT RECORDS
  local d=$W/r-$1 r
  sluice_read_cfg "$d" "$W/pq/$1"
  r=$(sluiced_once "$d" "$2")
  [[ $(cat "$d"/out/*.jsonl | wc -l) == "$2" ]] || die "sluiced wrote $(cat "$d"/out/*.jsonl | wc -l) lines from $1, not $2"
  echo "$r $(cat "$d"/out/*.jsonl | wc -c)"; rm -rf "$d"
}
# sluiced's fixed cost: start, open the state, find nothing to read, stop.
sluice_idle() {
  local d=$W/idle; mkdir -p "$W/in/empty"
  sluice_read_cfg "$d" "$W/in/empty"
  /usr/bin/time -f '%e %U %S %M' -o "$d/time" "$BIN" run --config "$d/sluice.yaml" --once 2>"$d/sluiced.log"
  awk '{ printf "%s %.2f %s 0\n", $1, $2 + $3, $4 }' "$d/time"; rm -rf "$d"
}

declare -A S
add() { S[$1]+="$2"$'\n'; echo "  $1: $2" >&2; }
for ((i = 1; i <= REPS; i++)); do
  echo "round $i of $REPS (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  for d in narrow wide; do
    add "duck-write-$d" "$(duck_write "$d")"
    add "sluice-write-$d-infer" "$(sluice_write "$d" infer)"
    add "sluice-write-$d-declared" "$(sluice_write "$d" declared)"
  done
  for d in narrow wide; do
    for w in duck sluice; do
      add "duck-read-$w-$d" "$(duck_read "$w-$d" "${RECORDS[$d]}")"
      add "sluice-read-$w-$d" "$(sluice_read "$w-$d" "${RECORDS[$d]}")"
    done
  done
  add "sluice-read-duck-big" "$(sluice_read duck-big "$R")"
  add "sluice-read-sluice-big" "$(sluice_read sluice-big "$R")"
  add idle "$(sluice_idle)"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

pick() { printf '%s' "${S[$1]}" | sort -g -k1,1 | sed -n "$(((REPS + 1) / 2))p"; }
maxrss() { printf '%s' "${S[$1]}" | awk '$3 > m { m = $3 } END { printf "%.1f MiB", m / 1024 }'; }
row() { # NAME KEY RECORDS INPUT_BYTES GOAL [BASELINE-KEY]
  local w c m o bw bc bo ratio=""
  read -r w c m o <<<"$(pick "$2")"
  if [[ -n ${6:-} ]]; then
    read -r bw bc _ bo <<<"$(pick "$6")"
    ratio=$(awk -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" 'BEGIN { printf "%.2f (CPU: %.2f)", bw / w, bc / c }')
    [[ $2 == *write* ]] && ratio+=$(awk -v o="$o" -v bo="$bo" 'BEGIN { printf "; size %.2f", o / bo }')
  fi
  awk -v name="$1" -v n="$3" -v b="$4" -v w="$w" -v c="$c" -v m="$m" -v o="$o" -v g="$5" -v r="$ratio" 'BEGIN {
    printf "| %s | %.0fk/s | %.0f MB/s | %.2f | %.1f MiB | %.1f MB | %s | %s |\n", name, n / w / 1e3, b / w / 1e6, c / (n / 1e6), m / 1024, o / 1e6, g, r }'
}
samples() { printf '%s' "${S[$1]}" | awk '{ printf "%s%s", sep, $1; sep = ", " }'; }
pqsize() { stat -c %s "$(ls "$W/pq/$1"/*.parquet)"; }

echo
echo "| scenario | records/s | MB/s (input) | CPU s per M records | peak RSS | output | goal | ratio to DuckDB: records/s (CPU s); size |"
echo "|---|---|---|---|---|---|---|---|"
for d in narrow wide; do
  n=${RECORDS[$d]} b=${BYTES[$d]}
  row "$d JSONL → Parquet: DuckDB COPY … (FORMAT parquet, COMPRESSION zstd)" "duck-write-$d" "$n" "$b" "baseline"
  row "$d JSONL → Parquet: sluiced, schema: infer" "sluice-write-$d-infer" "$n" "$b" "≥ 1.0, size ±10%" "duck-write-$d"
  row "$d JSONL → Parquet: sluiced, declared columns" "sluice-write-$d-declared" "$n" "$b" "≥ 1.0, size ±10%" "duck-write-$d"
done
for d in narrow wide; do
  n=${RECORDS[$d]}
  for w in duck sluice; do
    b=$(pqsize "$w-$d")
    who=$([[ $w == duck ]] && echo "DuckDB's" || echo "sluice's")
    row "$d Parquet ($who file) → JSONL: DuckDB COPY … TO 'out.json'" "duck-read-$w-$d" "$n" "$b" "baseline"
    row "$d Parquet ($who file) → JSONL: sluiced" "sluice-read-$w-$d" "$n" "$b" "≥ 1.0" "duck-read-$w-$d"
  done
done
echo
echo "| peak RSS of sluiced | median run | highest of $REPS | budget: queue.max_bytes ($QUEUE_BYTES) + 96 MiB |"
echo "|---|---|---|---|"
budget=$(awk -v q="$QUEUE_BYTES" 'BEGIN { sub(/MiB$/, "", q); print q + 96 }')
for k in sluice-write-narrow-infer sluice-write-narrow-declared; do
  read -r _ _ m _ <<<"$(pick "$k")"
  echo "| writing narrow, 64 MiB row groups (${k##*-}) | $(awk -v m="$m" 'BEGIN { printf "%.1f MiB", m / 1024 }') | $(maxrss "$k") | $budget MiB |"
done
for w in duck sluice; do
  read -r _ _ m _ <<<"$(pick "sluice-read-$w-big")"
  echo "| reading one ~128 MiB row group, $([[ $w == duck ]] && echo "DuckDB's" || echo "sluice's") file | $(awk -v m="$m" 'BEGIN { printf "%.1f MiB", m / 1024 }') | $(maxrss "sluice-read-$w-big") | $budget MiB |"
done
read -r iw ic im _ <<<"$(pick idle)"
echo
echo "Narrow: $N records, ${BYTES[narrow]} bytes of JSONL; wide: $WIDE_N records, ${BYTES[wide]} bytes." \
  "Parquet inputs: DuckDB's narrow $(pqsize duck-narrow) bytes, sluice's $(pqsize sluice-narrow) ($RG_SLUICE_NARROW);" \
  "DuckDB's wide $(pqsize duck-wide), sluice's wide $(pqsize sluice-wide)." \
  "128 MiB row groups ($R records): DuckDB's file $RG_DUCK_BIG; sluice's $RG_SLUICE_BIG." \
  "sluiced: queue { max_records: $QUEUE_RECORDS, max_bytes: $QUEUE_BYTES }, batch $BATCH, fsync: false." \
  "sluiced start + stop with nothing to read: ${iw} s, ${ic} CPU s, $(awk -v m="$im" 'BEGIN { printf "%.1f MiB", m / 1024 }')." \
  "Median of $REPS; load average $LOAD_END at the end."
echo
echo "Samples (wall s):"
for k in $(printf '%s\n' "${!S[@]}" | sort); do echo "- $k: $(samples "$k")"; done
