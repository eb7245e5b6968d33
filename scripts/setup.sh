#!/usr/bin/env bash
# Installs every system package sluice needs to build, run and test. Idempotent: safe to run again.
# Usage: scripts/setup.sh [--runtime]   (--runtime: only what the built daemon needs at run time)
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  librdkafka-dev libpq-dev librocksdb-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  prometheus-cpp-dev catch2 libsimdjson-dev libxxhash-dev libsystemd-dev zlib1g-dev
  libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev
)
# clang and libclang-rt-14-dev (libclang_rt.fuzzer and the sanitizer runtimes): tests/fuzz/run_parquet_fuzz.sh
TEST_PACKAGES=( python3 procps util-linux time kcat postgresql-15 postgresql-client-15 prometheus curl systemd clang libclang-rt-14-dev )
RUNTIME_PACKAGES=(
  libboost-json1.81.0 libboost-program-options1.81.0 librdkafka1 libpq5 librocksdb7.8 libspdlog1.10
  libyaml-cpp0.7 libprometheus-cpp-core1.0 libsimdjson14 libxxhash0 libsystemd0 zlib1g libzstd1 libsnappy1v5 liblz4-1 libbrotli1 ca-certificates
)

case "${1:-}" in
  ""|--runtime) ;;
  *) echo "setup.sh: unknown argument '$1' (usage: scripts/setup.sh [--runtime])" >&2; exit 2 ;;
esac

if [[ "${1:-}" == "--runtime" ]]; then
  wanted=("${RUNTIME_PACKAGES[@]}")
else
  wanted=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# Node.js (for the npm test tools) may come from another vendor's package that bundles npm and conflicts with
# Debian's npm package: ask for Debian's only when the commands are missing.
if [[ "${1:-}" != "--runtime" ]]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    # apt needs root: say so plainly instead of failing inside apt-get.
    command -v sudo >/dev/null || { echo "setup: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # Through env: sudo drops the caller's environment, so a plain prefix would not reach apt-get.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all ${#wanted[@]} packages present"

# Parquet test oracles (tests/oracles: DuckDB and hyparquet from npm), full mode only: npm ci when node_modules is
# missing or older than the lock file. Quiet unless npm fails.
if [[ "${1:-}" != "--runtime" ]]; then
  oracles="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/oracles"
  if [[ ! -d "$oracles/node_modules" || "$oracles/package-lock.json" -nt "$oracles/node_modules" ]]; then
    echo "setup: installing the Parquet oracles (npm ci in tests/oracles)"
    if ! npm_log=$(npm ci --prefix "$oracles" --no-audit --no-fund 2>&1); then
      printf '%s\n' "$npm_log" >&2
      echo "setup: 'npm ci --prefix tests/oracles --no-audit --no-fund' failed (output above)" >&2
      exit 1
    fi
    touch "$oracles/node_modules"
  fi
fi
