#!/usr/bin/env bash
# build.sh configures and builds Keystep into ./build (or $KEYSTEP_BUILD_DIR).
# Arguments name targets to build (default: all), e.g. ./hack/build.sh keystep
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${KEYSTEP_BUILD_DIR:-build}
jobs=${KEYSTEP_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$jobs" "${targets[@]}"
