#!/usr/bin/env bash
# image.sh builds the Keystep container image from the Dockerfile and prints
# the image's name on its last line.
#
#   hack/image.sh [NAME]        default keystep:<version from CMakeLists.txt>
#
# With a running Docker engine it is `docker build`. Without one it builds
# with podman (installed by hack/install-deps.sh), daemonless. When
# debian:bookworm and debian:bookworm-slim cannot be pulled (no registry
# reachable), the base images are made from Debian's archive with
# debootstrap, the way the official images are, and kept in podman's store
# as localhost/keystep-base:bookworm and :bookworm-slim; later builds reuse
# them. KEYSTEP_IMAGE_ENGINE=docker|podman picks the engine.
#
# A cold build (base images, build dependencies, the binary) took 14 minutes
# on 2 cores beside other builds; with the dependency layer cached, a source
# change costs the binary's build. An image whose label names the current
# source is reused at once.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^project(keystep VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
name=${1:-keystep:$version}
say() { echo "image: $*" >&2; }

engine=${KEYSTEP_IMAGE_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null 2>&1; then
    engine=podman
  else
    say "neither a running Docker engine nor podman was found (hack/install-deps.sh installs podman)"
    exit 1
  fi
fi

# What the Dockerfile copies (its COPY sources, and the Dockerfile) names the
# image's source: an image labelled with the same hash is current and is not
# rebuilt. Outside a git checkout there is no file list, and it is always built.
source_hash=
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t copied < <(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' Dockerfile)
  source_hash=$( { git ls-files -z -c -o --exclude-standard -- Dockerfile "${copied[@]}" | sort -z |
    xargs -0 sha256sum 2>/dev/null || true; } | sha256sum | cut -c1-32)
fi
label=dev.keystep.source
built_from=$("$engine" image inspect -f "{{index .Config.Labels \"$label\"}}" "$name" 2>/dev/null || true)
if [ -n "$source_hash" ] && [ "$built_from" = "$source_hash" ]; then
  say "$name is current (source $source_hash)"
  echo "$name"
  exit 0
fi

if [ "$engine" = docker ]; then
  docker build --label "$label=$source_hash" -t "$name" . >&2
  echo "$name"
  exit 0
fi

# podman. Some sandboxes (cgroup v1 hybrid hierarchies, no CAP_SYS_RESOURCE)
# refuse crun, and refuse podman's default rlimits: runc with the caller's
# own limits runs everywhere podman runs at all.
read -r -a run_flags <<<"$(hack/lib/podman-flags.sh)"

build_args=()
base_repo=localhost/keystep-base
have() { podman image exists "$1"; }

# make_bases builds bookworm (minbase, with bookworm-updates and the
# security archive, as the official image has) and bookworm-slim (the same,
# without documentation, manuals and locales, as the official slim image).
make_bases() {
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/keystep-base.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  say "building Debian 12 base images with debootstrap (no registry answered)"
  debootstrap --variant=minbase bookworm "$work/root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { cat "$work/debootstrap.log" >&2; return 1; }
  rm -f "$work/root/etc/apt/sources.list"
  cat >"$work/root/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$work/root/var/cache/apt/"*.bin "$work/root/var/lib/apt/lists/"*
  tar -C "$work/root" -c . | podman import --change 'CMD ["bash"]' - "$base_repo:bookworm" >/dev/null
  cat >"$work/root/etc/dpkg/dpkg.cfg.d/keystep-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
  find "$work/root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$work/root/usr/share/man/"* "$work/root/usr/share/info/"*
  find "$work/root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar -C "$work/root" -c . | podman import --change 'CMD ["bash"]' - "$base_repo:bookworm-slim" >/dev/null
}

if have docker.io/library/debian:bookworm && have docker.io/library/debian:bookworm-slim; then
  :
elif timeout 60 podman pull -q docker.io/library/debian:bookworm >/dev/null 2>&1 &&
     timeout 60 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  :
else
  if ! have "$base_repo:bookworm" || ! have "$base_repo:bookworm-slim"; then make_bases; fi
  build_args+=(--build-arg "BUILD_BASE=$base_repo:bookworm" --build-arg "RUNTIME_BASE=$base_repo:bookworm-slim")
fi

say "building $name with podman"
podman build --network host --pull=never "${run_flags[@]}" "${build_args[@]}" --label "$label=$source_hash" \
  -t "$name" . >&2
echo "$name"
