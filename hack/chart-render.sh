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
src="$here/chart-render"
cache="${CHART_RENDER_CACHE:-/var/cache/keystep/chart-render}"
bin="$cache/chart-render"
stamp="$cache/chart-render.sha256"
tree="$cache/gopath/src/keystep.dev/chart-render"

# Debian packages chart-render needs, kept out of install-deps.sh on purpose
# (whether they join that list is the lead's call). sprig's own dependencies
# (xstrings, mergo, copystructure, uuid, decimal, cast, x/crypto...) come with it.
chart_render_packages=(
  golang-go                             # Go toolchain (1.19 on Debian 12)
  golang-github-masterminds-sprig-dev   # sprig v3: helm's template functions
  golang-github-masterminds-semver-dev  # semver v3: Chart.yaml kubeVersion check
  golang-github-ghodss-yaml-dev         # YAML through JSON, like helm's sigs.k8s.io/yaml
  golang-gopkg-yaml.v2-dev              # the YAML 1.1 parser/emitter under it
  golang-github-burntsushi-toml-dev     # toToml
)

log() { echo "chart-render: $*" >&2; }

install_missing() {
  local missing=() p
  for p in "${chart_render_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]}"
    log "run as root (or install them with apt-get)"
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "packages installed"
}

GO=/usr/bin/go   # Debian's, whatever else is on PATH

# go_env runs a go command offline in GOPATH mode over Debian's /usr/share/gocode.
go_env() {
  env GO111MODULE=off GOENV=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOPATH="$cache/gopath:/usr/share/gocode" GOCACHE="$cache/go-build" \
    "$GO" "$@"
}

# stage copies the sources into a GOPATH tree with a go.mod: in GOPATH mode Go
# resolves ".../sprig/v3" to Debian's ".../sprig" only for code that has a
# go.mod above it ("minimal module compatibility").
stage() {
  rm -rf "$tree"
  mkdir -p "$tree"
  cp "$src"/*.go "$tree"/
  printf 'module keystep.dev/chart-render\n\ngo 1.19\n' >"$tree/go.mod"
}

source_hash() {
  local f
  {
    echo "recipe 1 CGO_ENABLED=0 -trimpath"
    "$GO" version
    for f in "$src"/*.go; do
      case "$f" in *_test.go) continue ;; esac
      echo "== ${f##*/}"
      cat "$f"
    done
  } | sha256sum | cut -d' ' -f1
}

ensure_built() {
  mkdir -p "$cache"
  (
    flock 9
    local want
    want="$(source_hash)"
    if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
      exit 0
    fi
    log "building $bin"
    stage
    (cd "$tree" && go_env build -trimpath -o "$bin.tmp.$$" .) >&2
    mv -f "$bin.tmp.$$" "$bin"
    echo "$want" >"$stamp"
  ) 9>"$cache/.lock"
}

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
