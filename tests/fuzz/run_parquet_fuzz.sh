#!/usr/bin/env bash
# Builds the libFuzzer target for sluice's Parquet footer and page decoding (parquet_fuzz.cpp beside this script)
# with clang, ASan and UBSan, makes a seed corpus of small valid files, and fuzzes for a bounded time.
# Exits non-zero on any finding (a crash, a sanitizer report, an exception other than ParquetError, a leak, an
# input slower than 10 s, one allocation over 512 MiB or 2 GiB in all), printing the input that did it.
#
# Usage: tests/fuzz/run_parquet_fuzz.sh [SECONDS [WORK_DIR]]
#   SECONDS   how long to fuzz (default 60)
#   WORK_DIR  objects, binaries, seeds, the corpus (which grows from run to run) and findings-*/ folders
#             (default /tmp/sluice-parquet-fuzz; CTest passes BUILD_DIR/fuzz)
# Needs clang and libclang-rt-14-dev (scripts/setup.sh installs them). Seeds: files written by sluice's Writer,
# plus files from DuckDB and hyparquet-writer (DATA_PAGE_V2, the DELTA and BYTE_STREAM_SPLIT encodings) when the
# test oracles in tests/oracles are installed.
# tests/fuzz/regressions/ holds inputs of earlier findings (minimized: WORK_DIR/parquet_fuzz -minimize_crash=1
# -max_total_time=60 -exact_artifact_path=OUT FINDING): they run first, every time.
# Reproduce a finding: WORK_DIR/parquet_fuzz FINDING_FILE
set -euo pipefail

seconds=${1:-60}
work=${2:-/tmp/sluice-parquet-fuzz}
if [[ ! $seconds =~ ^[0-9]+$ ]]; then
  echo "usage: tests/fuzz/run_parquet_fuzz.sh [SECONDS [WORK_DIR]]" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cxx=${SLUICE_FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "run_parquet_fuzz: $cxx not found: run scripts/setup.sh (it installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$work/obj" "$work/corpus" "$work/seeds"

# ---- build (skipped when neither the sources, this script nor the compiler changed since the last build)
# The Parquet code and what it uses from elsewhere in src/ (the writer's background compressor runs on a SerialWorker).
sources=("$root"/src/formats/parquet/*.cpp "$root"/src/formats/{base64,timestamp,json_check,gzip}.cpp "$root"/src/core/serial_worker.cpp)
# SLUICE_FUZZ_FLAGS: more compiler flags, e.g. "-fsanitize-recover=undefined" with UBSAN_OPTIONS=suppressions=FILE
# (and halt_on_error=1) to look past a known UBSan finding for others.
flags="-std=c++20 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined ${SLUICE_FUZZ_FLAGS:-}"
libs=(-lzstd -lsnappy -llz4 -lbrotlienc -lbrotlidec -lz -lsimdjson -lxxhash)
stamp=$( { "$cxx" --version; echo "$flags"; cat "$0" "$root"/tests/fuzz/*.cpp "${sources[@]}" \
           "$root"/src/formats/parquet/*.hpp "$root"/src/formats/*.hpp "$root"/src/core/serial_worker.hpp; } | sha256sum | cut -d' ' -f1)
if [[ ! -x $work/parquet_fuzz || ! -x $work/parquet_seeds || $(cat "$work/build.stamp" 2>/dev/null) != "$stamp" ]]; then
  echo "run_parquet_fuzz: building with $cxx in $work"
  rm -f "$work"/obj/*.o "$work/libparquet_fuzz.a" "$work/build.stamp"
  export CPATH="$root/src" FUZZ_CXX="$cxx" FUZZ_FLAGS="$flags -fsanitize=fuzzer-no-link,address,undefined" FUZZ_OBJ="$work/obj"
  compile() {
    # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
    $FUZZ_CXX $FUZZ_FLAGS -c "$1" -o "$FUZZ_OBJ/$(basename "${1%.cpp}").o" || { echo "run_parquet_fuzz: cannot compile $1" >&2; exit 255; }
  }
  export -f compile
  # two at a time: the machines have 2 cores. An archive, so that the link takes only the objects the reader needs.
  # shellcheck disable=SC2016  # $0 is expanded by the inner bash
  printf '%s\0' "${sources[@]}" | xargs -0 -n 1 -P 2 bash -c 'compile "$0"'
  ar rcs "$work/libparquet_fuzz.a" "$work"/obj/*.o
  # shellcheck disable=SC2086
  "$cxx" $flags -Wall -Wextra -fsanitize=fuzzer,address,undefined "$root/tests/fuzz/parquet_fuzz.cpp" "$work/libparquet_fuzz.a" \
    "${libs[@]}" -o "$work/parquet_fuzz"
  # fuzzer-no-link: libFuzzer's runtime without its main(), for the coverage callbacks of the library objects
  # shellcheck disable=SC2086
  "$cxx" $flags -Wall -Wextra -fsanitize=fuzzer-no-link,address,undefined "$root/tests/fuzz/parquet_seeds.cpp" "$work/libparquet_fuzz.a" \
    "${libs[@]}" -o "$work/parquet_seeds"
  echo "$stamp" > "$work/build.stamp"
fi

# ---- seeds
rm -rf "$work/seeds" && mkdir -p "$work/seeds"
"$work/parquet_seeds" "$work/seeds"
oracles="$root/tests/oracles"
if command -v node >/dev/null && [[ -d $oracles/node_modules/@duckdb/node-api && -d $oracles/node_modules/hyparquet-writer ]]; then
  # DuckDB: its encodings (PARQUET_VERSION V2: DELTA_*, BYTE_STREAM_SPLIT), maps, uuid, time, intervals, every codec
  sql="CREATE TABLE t AS SELECT i AS id, CASE WHEN i%3=0 THEN NULL ELSE 'str' || (i%5) END AS s, (i*1.25)::DOUBLE AS d,
       (i*0.5)::FLOAT AS f, CASE WHEN i%4=0 THEN NULL WHEN i%4=1 THEN [] ELSE [i, NULL] END AS l,
       CASE WHEN i%5=0 THEN NULL ELSE {'a': i, 'b': [{'x': 'y' || i}]} END AS st, MAP {'k' || (i%3): i} AS m,
       MAP {i: 'v'} AS mi, DATE '1960-01-01' + i::INT AS dt, TIMESTAMP '1969-12-31 23:59:59' + INTERVAL (i) MILLISECOND AS ts,
       TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i) SECOND AS tz, make_timestamp_ns(i*1234567891234567) AS tns,
       (i - 5)::DECIMAL(9,2) AS d9, (i*12345)::DECIMAL(18,4) AS d18, (i::HUGEINT * 1000000000000000000 - 3)::DECIMAL(38,10) AS d38,
       md5(i::VARCHAR)::UUID AS u, ('blob' || i)::BLOB AS b, TIME '01:02:03' + INTERVAL (i) SECOND AS t,
       INTERVAL (i) DAY AS iv, (i%2=0) AS bo, i::UTINYINT AS ut, (i*1000003)::UBIGINT AS ub,
       (CASE i%2 WHEN 0 THEN 'a' ELSE 'b' END)::ENUM('a','b') AS en FROM range(24) t(i);"
  for codec in uncompressed snappy gzip zstd lz4_raw brotli; do
    for version in V1 V2; do
      sql+="COPY t TO '$work/seeds/duckdb_${codec}_$version.parquet' (FORMAT parquet, COMPRESSION $codec, PARQUET_VERSION $version, ROW_GROUP_SIZE 2048);"
    done
    sql+="COPY t TO '$work/seeds/duckdb_${codec}_V2_nodict.parquet' (FORMAT parquet, COMPRESSION $codec, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 0);"
  done
  node "$oracles/parquet_oracle.mjs" duckdb-sql "$sql" >/dev/null ||
    echo "run_parquet_fuzz: warning: DuckDB could not write its seed files (above); going on without them" >&2
  # hyparquet-writer: DATA_PAGE_V2 pages, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT on integers and fixed-length bytes
  for codec in UNCOMPRESSED SNAPPY GZIP BROTLI; do
    cat > "$work/seeds.spec.json" <<EOF
{"codec": "$codec", "row_group_size": 4, "page_size": 32, "columns": [
 {"name": "a", "type": "INT32", "encoding": "DELTA_BINARY_PACKED", "data": [1, null, -3, 2147483647, -2147483648, 0, 5, null]},
 {"name": "b", "type": "INT64", "encoding": "BYTE_STREAM_SPLIT", "data": [1, 9223372036854775807, null, -9223372036854775808, 0, 2, 3, 4]},
 {"name": "c", "type": "STRING", "encoding": "DELTA_BYTE_ARRAY", "data": ["prefix one", "prefix two", null, "pre", "", "ünï", "prefix one", "x"]},
 {"name": "d", "type": "STRING", "encoding": "DELTA_LENGTH_BYTE_ARRAY", "data": ["a", "", null, "ccc", "dd", "e", "f", "g"]},
 {"name": "e", "type": "DOUBLE", "encoding": "BYTE_STREAM_SPLIT", "data": [0.5, "NaN", null, "-Infinity", -0.0, 1e300, 5e-324, 2]},
 {"name": "f", "type": "BOOLEAN", "encoding": "RLE", "data": [true, false, null, true, true, true, false, false]},
 {"name": "g", "type": "DECIMAL(38, 10)", "encoding": "BYTE_STREAM_SPLIT", "data": ["1.5", null, "-9999999999999999999999999999.9999999999", "0.0000000001", "0", "2", "3", "4"]},
 {"name": "h", "type": "FLOAT16", "encoding": "BYTE_STREAM_SPLIT", "data": [0.5, null, 65504, -2, 0, 1, "NaN", "Infinity"]},
 {"name": "i", "type": {"list": "INT64", "element_nullable": true}, "data": [[1, null], [], null, [2], [3, 4, 5], [], [6], null]},
 {"name": "j", "type": {"map": {"key": "STRING", "value": "INT64", "value_nullable": true}}, "data": [{"k": 1}, null, {}, {"a": null, "b": 2}, {"c": 3}, {}, {"d": 4}, null]},
 {"name": "k", "type": {"struct": [{"name": "x", "type": "TIMESTAMP(NANOS, true)"}, {"name": "y", "type": "DATE"}]},
  "data": [{"x": "2020-01-01T00:00:00.000000001Z", "y": "-0044-03-15"}, null, {"x": null, "y": null}, {"x": 5, "y": "2024-02-29"}, null, null, null, null]}
]}
EOF
    node "$oracles/parquet_oracle.mjs" hyparquet-write "$work/seeds.spec.json" "$work/seeds/hyparquet_$codec.parquet" ||
      echo "run_parquet_fuzz: warning: hyparquet-writer could not write its $codec seed file (above)" >&2
  done
  rm -f "$work/seeds.spec.json"
else
  echo "run_parquet_fuzz: the test oracles are not installed (scripts/setup.sh): seeds from sluice's writer only"
fi
count() { find "$1" -maxdepth 1 -type f | wc -l; }
echo "run_parquet_fuzz: $(count "$work/seeds") seed files, $(count "$root/tests/fuzz/regressions") regression inputs," \
  "$(count "$work/corpus") corpus files from earlier runs"

# ---- fuzz
findings="$work/findings-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$findings"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "run_parquet_fuzz: fuzzing for $seconds s (log: $work/fuzz.log)"
rc=0
"$work/parquet_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$findings/" "$work/corpus" "$work/seeds" "$root/tests/fuzz/regressions" \
  > "$work/fuzz.log" 2>&1 || rc=$?
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$work/fuzz.log" || true
if ((rc != 0)) || [[ -n $(ls -A "$findings") ]]; then
  echo "run_parquet_fuzz: FINDING (libFuzzer exit $rc). The report:" >&2
  # from the first line of the report (a UBSan runtime error, an uncaught exception, or a sanitizer's or
  # libFuzzer's ==PID== ERROR line), else the end of the log
  first=$(grep -n -m 1 -E 'runtime error:|terminate called|==[0-9]+== ?ERROR' "$work/fuzz.log" | cut -d: -f1 || true)
  if [[ -n $first ]]; then tail -n "+$first" "$work/fuzz.log" | head -n 150 >&2; else tail -n 60 "$work/fuzz.log" >&2; fi
  for f in "$findings"/*; do
    [[ -e $f ]] || continue
    echo "run_parquet_fuzz: input: $f ($(stat -c %s "$f") bytes); reproduce: $work/parquet_fuzz $f" >&2
  done
  exit 1
fi
rmdir "$findings"
echo "run_parquet_fuzz: no findings"
