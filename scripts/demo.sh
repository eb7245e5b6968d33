#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then runs the demo pipelines of
# config/sluice.yaml once and reports what they wrote. Re-runnable: every run starts from nothing.
# Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/build.sh    # runs scripts/setup.sh first
sluiced=build/daemon/sluiced
config=config/sluice.yaml
out=demo-output

# The state dir is wherever config/sluice.yaml puts it (relative to the file's directory), so read it from
# there instead of repeating it; refuse to delete anything outside the repository.
state_dir=$(sed -nE 's/^state_dir:[[:space:]]*["'\'']?([^"'\''#[:space:]]+).*/\1/p' "$config" | head -n1)
[[ -n "$state_dir" ]] || { echo "demo: no state_dir in $config" >&2; exit 1; }
[[ "$state_dir" = /* ]] || state_dir=$(realpath -m "$(dirname "$config")/$state_dir")
case "$state_dir/" in
  "$root"/?*) ;;
  *) echo "demo: state_dir $state_dir is outside $root; not deleting it" >&2; exit 1 ;;
esac
rel() { realpath -m --relative-to="$root" "$1"; }

# Each run starts clean: old parts would be counted again, and an old checkpoint would make the bounded
# sources resume at their end and write nothing.
echo
echo "demo: deleting $out/ and the state dir $(rel "$state_dir")/ from earlier runs"
rm -rf "$out" "$state_dir"
mkdir -p "$out"

echo "demo: \$ $sluiced check --config $config"
"$sluiced" check --config "$config"

echo "demo: \$ $sluiced run --config $config --once"
start=$(date +%s.%N)
set +e
"$sluiced" run --config "$config" --once 2>&1 | tee "$out/sluiced.log"
rc=${PIPESTATUS[0]}
set -e
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# Records in the finished part files of one directory: lines of JSONL, gunzipped when .gz; for CSV, records
# (a line break inside a quoted field does not end one: count quotes) minus each file's header.
count_records() {
  local dir=$1 total=0 n f
  while IFS= read -r -d '' f; do
    case "$f" in
      *.jsonl) n=$(wc -l <"$f") ;;
      *.jsonl.gz) n=$(zcat "$f" | wc -l || true) ;;   # a broken file is reported by zcat, not fatal here
      *.csv|*.csv.gz)
        n=$(case "$f" in *.gz) zcat "$f" ;; *) cat "$f" ;; esac |
          awk '{ q += gsub(/"/, "&") } q % 2 == 0 { r++ } END { print (r > 0 ? r - 1 : 0) }' || true) ;;
    esac
    total=$((total + n))
  done < <(find "$dir" -maxdepth 1 -type f ! -name '.*' \( -name '*.jsonl' -o -name '*.jsonl.gz' -o -name '*.csv' -o -name '*.csv.gz' \) -print0)
  echo "$total"
}
count_parts() { find "$1" -maxdepth 1 -type f ! -name '.*' \( -name '*.jsonl' -o -name '*.jsonl.gz' -o -name '*.csv' -o -name '*.csv.gz' \) | wc -l; }
count_inprogress() { find "$1" -maxdepth 1 -type f -name '.*.inprogress' | wc -l; }

echo
if [[ $rc -eq 0 ]]; then
  echo "demo: sluiced run --once finished in ${seconds}s (exit 0)"
else
  echo "demo: sluiced run --once FAILED with exit $rc after ${seconds}s (log: $out/sluiced.log)"
fi
echo
echo "Output (finished part files; the pipelines are in config/pipelines/):"
shopt -s nullglob
for dir in "$out"/*/; do
  dir=${dir%/}
  [[ "$(realpath "$dir")" == "$state_dir" ]] && continue
  printf '  %-22s %4d part file(s), %8d records' "$dir/" "$(count_parts "$dir")" "$(count_records "$dir")"
  left=$(count_inprogress "$dir")
  [[ $left -eq 0 ]] && echo || echo ", $left part(s) still in progress"
done

echo
dead="$state_dir/dead_letter"
echo "Dead letters (malformed input, with file, line, reason and the original bytes), in $(rel "$dead")/:"
found=0
for dir in "$dead"/*/; do
  dir=${dir%/}
  found=1
  printf '  %-22s %8d records\n' "$(basename "$dir")" "$(count_records "$dir")"
done
[[ $found -eq 1 ]] || echo "  none"
example=$(find "$dead" -maxdepth 2 -type f -name '*.jsonl' 2>/dev/null | sort | head -n1 || true)
[[ -n "$example" ]] && { echo "  first one:"; head -n1 "$example" | awk '{ print "    " (length($0) > 240 ? substr($0, 1, 240) " ..." : $0) }'; }

echo
echo "State (checkpoints and committed part lengths, RocksDB): $(rel "$state_dir")/ ($(du -sh "$state_dir" 2>/dev/null | cut -f1 || echo '?'))"
echo "Log of the run: $out/sluiced.log"
echo "Look at the data:  zcat $out/orders/*.jsonl.gz | head -n3;  head -n3 $out/samples/*.jsonl"
echo "Run again with:    bash scripts/demo.sh   (starts from an empty $out/ every time)"
exit "$rc"
