#!/usr/bin/env bash
# The README's second command (and what CI runs): installs what is missing, builds, and runs every CTest test,
# first on the normal build (build/), then on the AddressSanitizer + UBSan build (build-asan/).
# Usage: bash scripts/test.sh [--fast | --sanitize]
#   --fast      only the normal build's tests
#   --sanitize  only the sanitizer build's tests
# Exit code: non-zero if any test run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=(normal sanitize)
for arg in "$@"; do
  case "$arg" in
    --fast) runs=(normal) ;;
    --sanitize) runs=(sanitize) ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (usage: scripts/test.sh [--fast | --sanitize])" >&2; exit 2 ;;
  esac
done

rc=0
for run in "${runs[@]}"; do
  # Most tests wait rather than compute (on rate limits, group rebalances, kills and restarts): with one test per
  # core a 2-core machine was 40% busy through the normal build's run, so both runs have two tests per core. The
  # kill tests count every other kill from the run's first commit, so that a sluiced slowed down by the sanitizers
  # and a loaded machine is still killed mid-stream.
  jobs=$((2 * $(nproc)))
  if [[ $run == sanitize ]]; then
    build_dir=build-asan
    bash scripts/build.sh --sanitize    # runs scripts/setup.sh first
    # Fail on the first sanitizer report, with a stack for UBSan too; callers may override either.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  else
    build_dir=build
    bash scripts/build.sh
  fi
  echo "test: running every test on $build_dir/"
  # --output-on-failure: a failing test's output is what explains it. --no-tests=error: a build that registered
  # no tests must not pass as green.
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j"$jobs" --timeout 900 || rc=1
done
exit "$rc"
