#!/usr/bin/env bash
# The README's second command (and what CI runs): installs what is missing, builds, runs every CTest test.
# Usage: bash scripts/test.sh [--sanitize]   (--sanitize: the AddressSanitizer/UBSan build in build-asan/)
# Exit code: ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
build_args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-asan; build_args=(--sanitize) ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (usage: scripts/test.sh [--sanitize])" >&2; exit 2 ;;
  esac
done

bash scripts/build.sh "${build_args[@]}"    # runs scripts/setup.sh first

if [[ $build_dir == build-asan ]]; then
  # Fail on the first sanitizer report, with a stack for UBSan too; callers may override either.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

# --output-on-failure: a failing test's output is what explains it. --no-tests=error: a build that registered
# no tests must not pass as green. -j2: the machines have 2 cores.
set +e
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 --timeout 900
rc=$?
set -e
exit "$rc"
