#!/usr/bin/env bash
# install-deps.sh installs every build and test dependency of Keystep from
# Debian 12 packages. Idempotent and non-interactive: when every package is
# already installed it does nothing and touches no network.
#
#   hack/install-deps.sh            everything: build, tests, quickstart
#   hack/install-deps.sh --build    only what building the keystep binary needs
#                                   (the Dockerfile's build stage)
set -euo pipefail

scope=all
case "${1:-}" in
  "") ;;
  --build) scope=build ;;
  *) echo "usage: hack/install-deps.sh [--build]" >&2; exit 2 ;;
esac

packages=(
  # toolchain
  build-essential cmake pkg-config
  # libraries (all ship CMake package configs)
  libssl-dev libboost1.74-dev libboost-system1.74-dev libcpprest-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libexpected-dev
  libsqlite3-dev libpq-dev prometheus-cpp-dev
  # CMake's configure step needs it even when only keystep is built
  catch2
)
if [ "$scope" = all ]; then packages+=(
  git
  # real components the integration tests start
  postgresql-15
  # independent verifiers and clients used by the tests and quickstart
  openssl curl ca-certificates procps
  # the hack/bench-*.sh scripts (free ports, config edits)
  python3
  # ACME clients driven by tests/integration/acme_clients_test.cc (uacme's
  # trust store is swapped with unshare and mount, from util-linux and mount)
  certbot lego uacme dehydrated util-linux mount
  # hack/chart-render.sh: helm's template engine (Go text/template + sprig), for the chart tests
  golang-go golang-github-masterminds-sprig-dev golang-github-masterminds-semver-dev
  golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev golang-github-burntsushi-toml-dev
  # hack/image.sh and tests/integration/image_test.cc: the container image, built and run
  # without a Docker engine (debootstrap makes the Debian base images when no registry answers)
  podman runc debootstrap
  # tests/integration/walkthrough_test.cc: the README's commands run as written, on a private
  # loopback (ip), with its systemd unit checked by systemd-analyze
  iproute2 systemd
); fi
# kubectl drives the tests against the real kube-apiserver. Debian's
# kubernetes-client is 1.20: enough for apply/get/describe, but the K8sSA
# tests need `kubectl create token` (1.24+), so a newer kubectl already on
# the machine is kept (with 1.20 those tests fail, loudly, on that command).
if [ "$scope" = all ] && ! command -v kubectl >/dev/null 2>&1; then
  packages+=(kubernetes-client)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them with apt-get)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
