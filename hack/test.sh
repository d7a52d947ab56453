#!/usr/bin/env bash
# test.sh installs the dependencies, builds Keystep and runs every test with
# ctest. Its exit status is the suite's; ctest's summary is the last output.
#
# The integration tests run a real kube-apiserver, which Debian does not
# package: hack/kube-apiserver.sh builds it from Debian's kubernetes source
# package the first time (about 6 minutes on 2 cores, plus the source
# download) and caches it under /var/cache/keystep; later runs reuse the
# cache and take no time. The chart tests' renderer (helm's template engine,
# from Debian's Go packages) and the x/crypto/acme client are built and
# cached the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
# Its last output line is the binary's path; everything else goes to stderr.
kube_apiserver=$(./hack/kube-apiserver.sh | tail -n 1)
export KEYSTEP_KUBE_APISERVER=$kube_apiserver
# The chart tests render with hack/chart-render.sh; build it once here (about
# 20 s, cached) so parallel tests never build it side by side.
./hack/chart-render.sh --build >/dev/null
# The x/crypto/acme tests (cert-manager's ACME client library) run
# hack/acme-xcrypto.sh's binary; build it once here too (about 25 s, cached)
# and hand its path to the tests.
acme_xcrypto=$(./hack/acme-xcrypto.sh --build)
export KEYSTEP_ACME_XCRYPTO=$acme_xcrypto
# The image tests run the container image the Dockerfile builds (with podman
# here; about 10 minutes cold on 2 cores, less when podman's layer cache holds
# the dependencies).
image=$(./hack/image.sh | tail -n 1)
export KEYSTEP_IMAGE=$image
./hack/build.sh
build_dir=${KEYSTEP_BUILD_DIR:-build}
cd "$build_dir"
exec ctest --output-on-failure --timeout 600 -j"${KEYSTEP_TEST_JOBS:-2}"
