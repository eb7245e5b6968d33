#!/usr/bin/env bash
# Configures and builds sluice with CMake + Ninja. Idempotent: a second run only rebuilds what changed.
# Usage: scripts/build.sh [--sanitize]
#   (default)    build/       -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   --sanitize   build-asan/  -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON (AddressSanitizer + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-asan; cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON) ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (usage: scripts/build.sh [--sanitize])" >&2; exit 2 ;;
  esac
done

# The compilers, CMake, Ninja and the libraries come from Debian packages; setup.sh installs only what is missing.
bash scripts/setup.sh

# A directory configured earlier with another generator (e.g. plain `cmake -B build` → Makefiles) cannot be
# switched to Ninja in place: start that one afresh rather than fail.
if [[ -f "$build_dir/CMakeCache.txt" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build_dir/CMakeCache.txt"; then
  echo "build: $build_dir/ was configured with another generator; reconfiguring it for Ninja"
  rm -rf "$build_dir"
fi

echo "build: configuring $build_dir/ (${cmake_args[*]})"
# Boost_NO_WARN_NEW_VERSIONS: CMake 3.25's FindBoost predates Boost 1.81 and warns about it on every configure.
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" -DBoost_NO_WARN_NEW_VERSIONS=ON >/dev/null
echo "build: compiling with $(nproc) jobs"
cmake --build "$build_dir" -j"$(nproc)"
echo "build: done: $build_dir/daemon/sluiced"
