# go-tool.sh is sourced by the hack/ scripts that build a small Go tool from
# Debian's Go and Debian's Go library packages only (offline, GOPATH mode)
# and cache the binary outside the checkout. The caller sets:
#   tool         the tool's name, e.g. chart-render (sources in hack/<tool>/)
#   src          the directory of its .go files
#   cache        the cache directory (the binary is $cache/$tool)
#   packages     an array of the Debian packages it needs
# and then calls install_missing, ensure_built (rebuilds only when the
# sources or the Go toolchain changed) or go_env.

bin="$cache/$tool"
stamp="$cache/$tool.sha256"
tree="$cache/gopath/src/keystep.dev/$tool"
GO=/usr/bin/go   # Debian's, whatever else is on PATH

log() { echo "$tool: $*" >&2; }

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
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
  printf 'module keystep.dev/%s\n\ngo 1.19\n' "$tool" >"$tree/go.mod"
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
