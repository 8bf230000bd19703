#!/bin/bash
# tests/it/images/build.sh — build the local images the integration cases use. No registry:
# every image is a tree made here and `docker import`ed. Each image is built only when missing
# (`FORCE=1` rebuilds), so re-runs cost nothing.
#
#   runcvm-test/bb           busybox-static: /bin/busybox + a symlink per applet, /etc/passwd and
#                            /etc/group with root and `user` (uid/gid 1000), /tmp (1777), /root,
#                            /home/user. Workhorse image: boots fast, has a shell and coreutils.
#   runcvm-test/bb-nopasswd  busybox only, no /etc at all (like hello-world: nothing to resolve
#                            users or HOME from).
#   runcvm-test/debian       debootstrap --variant=minbase bookworm; the tarball is cached under
#                            .cache/images/ (first build ~1-2 min, later imports a few seconds).
#   runcvm-test/net          runcvm-test/debian + iperf3 and redis-server/redis-tools (networking
#                            cases and bench/net-bench.sh). The .debs are fetched on the host with
#                            `apt-get download` (cached) and `docker build --pull=false` installs them
#                            offline: FROM a local image needs no registry.
#
# Env: RUNCVM_TEST_DEBIAN_MIRROR (default: first Debian URI in /etc/apt/sources.list*, else
# http://deb.debian.org/debian), RUNCVM_TEST_CACHE (default <repo>/.cache/images), FORCE=1.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${RUNCVM_TEST_CACHE:-$REPO/.cache/images}
BUSYBOX=${BUSYBOX:-/bin/busybox}
mkdir -p "$CACHE"

log() { echo "images: $*" >&2; }
have_image() { [ -z "${FORCE:-}" ] && docker image inspect "$1" >/dev/null 2>&1; }

# The import CMD matters: with no CMD, `docker run IMAGE` without a command fails at create time.
import_dir() { # <dir> <image> [--change ...]
  local dir=$1 image=$2; shift 2
  tar -C "$dir" --numeric-owner -c . | docker import "$@" - "$image" >/dev/null
  log "built $image"
}

busybox_tree() { # <dir>: busybox + applet symlinks, the minimum an image needs to run `sh`
  local r=$1
  mkdir -p "$r/bin" "$r/tmp"
  chmod 1777 "$r/tmp"
  file -L "$BUSYBOX" | grep -q 'statically linked' || { log "$BUSYBOX is not static (apt-get install busybox-static)"; exit 1; }
  cp "$BUSYBOX" "$r/bin/busybox"
  local a
  for a in $("$BUSYBOX" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
}

build_bb() {
  local image=runcvm-test/bb
  have_image $image && return 0
  local r; r=$(mktemp -d); trap 'rm -rf "$r"' RETURN
  busybox_tree "$r"
  mkdir -p "$r/etc" "$r/root" "$r/home/user"
  chown 1000:1000 "$r/home/user"
  chmod 700 "$r/root"
  cat >"$r/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:Test User:/home/user:/bin/sh
PW
  cat >"$r/etc/group" <<'GR'
root:x:0:
user:x:1000:
extra:x:2000:user
GR
  import_dir "$r" $image --change 'CMD ["sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
}

build_bb_nopasswd() {
  local image=runcvm-test/bb-nopasswd
  have_image $image && return 0
  local r; r=$(mktemp -d); trap 'rm -rf "$r"' RETURN
  busybox_tree "$r"
  import_dir "$r" $image --change 'CMD ["sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
}

debian_mirror() {
  [ -n "${RUNCVM_TEST_DEBIAN_MIRROR:-}" ] && { echo "$RUNCVM_TEST_DEBIAN_MIRROR"; return; }
  local uri
  uri=$( (grep -hE '^(deb |URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true) \
    | grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_debian() {
  local image=runcvm-test/debian tarball=$CACHE/debian-bookworm-minbase.tar
  have_image $image && return 0
  if [ ! -s "$tarball" ] || [ -n "${FORCE:-}" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 1; }
    local r mirror; r=$(mktemp -d); mirror=$(debian_mirror)
    log "debootstrap minbase bookworm from $mirror (1-2 min)"
    if ! debootstrap --variant=minbase bookworm "$r" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
      log "debootstrap failed; see $CACHE/debootstrap.log"; rm -rf "$r"; exit 1
    fi
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
    tar -C "$r" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$r"
  fi
  docker import --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" $image >/dev/null
  log "built $image (from $tarball)"
}

# Exact package set (Debian bookworm): iperf3 and redis with their libraries minbase lacks.
NET_DEBS="iperf3 libiperf0 libsctp1 redis-server redis-tools libjemalloc2 liblzf1 libssl3 liburing2 libatomic1"
build_net() {
  local image=runcvm-test/net debs=$CACHE/net-debs
  have_image $image && return 0
  docker image inspect runcvm-test/debian >/dev/null 2>&1 || { log "$image needs runcvm-test/debian"; exit 1; }
  mkdir -p "$debs"
  # shellcheck disable=SC2086
  ls "$debs"/iperf3_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download $NET_DEBS >"$CACHE/net-debs.log" 2>&1) \
    || { log "apt-get download failed; see $CACHE/net-debs.log"; exit 1; }
  local ctx; ctx=$(mktemp -d); trap 'rm -rf "$ctx"' RETURN
  cp -r "$debs" "$ctx/debs"
  printf '%s\n' 'FROM runcvm-test/debian' 'COPY debs/ /tmp/debs/' \
    'RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs && iperf3 --version >/dev/null && redis-server --version >/dev/null' >"$ctx/Dockerfile"
  docker build -q --pull=false -t $image "$ctx" >/dev/null
  log "built $image"
}

want=${*:-bb bb-nopasswd debian}
for i in $want; do
  case $i in
    bb) build_bb ;;
    bb-nopasswd) build_bb_nopasswd ;;
    debian) build_debian ;;
    net) build_net ;;
    *) log "unknown image $i"; exit 2 ;;
  esac
done
