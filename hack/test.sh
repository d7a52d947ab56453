#!/usr/bin/env bash
# test.sh installs the dependencies, builds Keystep and runs every test with
# ctest. Its exit status is the suite's; ctest's summary is the last output.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
./hack/build.sh
build_dir=${KEYSTEP_BUILD_DIR:-build}
cd "$build_dir"
exec ctest --output-on-failure --timeout 600 -j"${KEYSTEP_TEST_JOBS:-2}"
