#!/usr/bin/env bash
# kube-apiserver.sh makes sure a kube-apiserver binary and etcd exist for the
# integration tests, and prints the binary's path on its last line.
#
# No kube-apiserver is packaged for Debian 12, but Debian's kubernetes source
# package is: this script fetches it with `apt-get source`, builds
# cmd/kube-apiserver with Debian's Go and caches the binary outside the
# checkout (KEYSTEP_CACHE_DIR, default /var/cache/keystep). A cached binary is
# reused; a missing one is rebuilt (about 6 minutes on 2 cores).
set -euo pipefail

cache_dir=${KEYSTEP_CACHE_DIR:-/var/cache/keystep}
version=1.20.2
out="$cache_dir/kube-apiserver-$version/kube-apiserver"

need=(etcd-server)
if [ ! -x "$out" ]; then
  need+=(golang-go rsync jq dpkg-dev golang-github-modern-go-reflect2-dev)
fi
missing=()
for p in "${need[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kube-apiserver: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -x "$out" ]; then
  echo "$out"
  exit 0
fi

src_list=/etc/apt/sources.list.d/keystep-deb-src.sources
if ! apt-get source --print-uris kubernetes >/dev/null 2>&1; then
  echo "kube-apiserver: adding a deb-src entry for bookworm ($src_list)" >&2
  cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/keystep-kube-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "kube-apiserver: fetching Debian's kubernetes source" >&2
apt-get source --download-only kubernetes >/dev/null 2>&1 || apt-get source --download-only kubernetes
origs=(kubernetes_*.orig.tar.*)
mkdir -p unpacked gopath/src/k8s.io
tar -xf "${origs[0]}" -C unpacked
tops=(unpacked/*)
[ ${#tops[@]} -eq 1 ] || { echo "kube-apiserver: unexpected source layout: ${tops[*]}" >&2; exit 1; }
mv "${tops[0]}" gopath/src/k8s.io/kubernetes
cd gopath/src/k8s.io/kubernetes

# The vendored reflect2 1.0.1 crashes under Go >= 1.18; Debian's 1.0.2 does not.
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
rm -rf vendor/github.com/modern-go/reflect2
cp -r "$reflect2" vendor/github.com/modern-go/reflect2

echo "kube-apiserver: building cmd/kube-apiserver $version (several minutes)" >&2
export GOPATH="$work/gopath" GO111MODULE=off GOFLAGS=-mod=vendor CGO_ENABLED=0 GOCACHE="$work/gocache"
make WHAT=cmd/kube-apiserver >&2 || {
  # Kubernetes 1.20's make wrapper wants a git tree; build directly as a fallback.
  echo "kube-apiserver: make failed, building with go build" >&2
  GO111MODULE=on go build -mod=vendor -o _output/bin/kube-apiserver ./cmd/kube-apiserver >&2
}
bin=$(find _output -type f -name kube-apiserver -print -quit)
[ -x "$bin" ] || { echo "kube-apiserver: build produced no binary" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
install -m 0755 "$bin" "$out.tmp"
mv "$out.tmp" "$out"
echo "kube-apiserver: cached $out" >&2
echo "$out"
