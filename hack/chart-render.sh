#!/usr/bin/env bash
# chart-render.sh renders a Helm chart directory the way `helm template` does,
# on machines without helm: hack/chart-render/main.go, built with Debian's Go
# and Debian's Go library packages only (offline, GOPATH mode).
#
#   hack/chart-render.sh CHART_DIR --release NAME --namespace NS \
#       [-f values.yaml ...] [--set key.path=value ...] [--show-only templates/x.yaml] \
#       [--include-crds] [--notes] [--kube-version v1.20.2] [--api-versions g/v ...]
#   hack/chart-render.sh --help            # all flags
#   hack/chart-render.sh --self-test [go test flags, e.g. -v -run TestErrors]
#   hack/chart-render.sh --build           # only (re)build; prints the binary's path
#
# The manifests go to stdout, everything else (install and build messages,
# warnings, errors, --notes) to stderr; a failed required/fail exits 1 with
# helm's "Error: execution error at (<chart>/templates/x.yaml:L:C): ...".
#
# Missing Debian packages are installed first (as root; nothing happens when
# they are all there). The binary is cached in
# /var/cache/keystep/chart-render/chart-render (CHART_RENDER_CACHE overrides the
# directory) and rebuilt only when the sources or the Go toolchain changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool=chart-render
src="$here/$tool"
cache="${CHART_RENDER_CACHE:-/var/cache/keystep/$tool}"
# Debian packages chart-render needs, kept out of install-deps.sh on purpose
# (whether they join that list is the lead's call). sprig's own dependencies
# (xstrings, mergo, copystructure, uuid, decimal, cast, x/crypto...) come with it.
packages=(
  golang-go                             # Go toolchain (1.19 on Debian 12)
  golang-github-masterminds-sprig-dev   # sprig v3: helm's template functions
  golang-github-masterminds-semver-dev  # semver v3: Chart.yaml kubeVersion check
  golang-github-ghodss-yaml-dev         # YAML through JSON, like helm's sigs.k8s.io/yaml
  golang-gopkg-yaml.v2-dev              # the YAML 1.1 parser/emitter under it
  golang-github-burntsushi-toml-dev     # toToml
)

# shellcheck source=lib/go-tool.sh
source "$here/lib/go-tool.sh"

self_test() {
  mkdir -p "$cache"
  (
    flock 9
    stage
    cd "$tree"
    go_env test -count=1 "$@" .
  ) 9>"$cache/.lock"
}

install_missing
case "${1:-}" in
  --self-test)
    shift
    self_test "$@"
    ;;
  --build)
    ensure_built
    echo "$bin"
    ;;
  *)
    ensure_built
    exec "$bin" "$@"
    ;;
esac
