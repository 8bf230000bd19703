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
#   runcvm-test/system       a system image as a user would make one: debootstrap minbase bookworm
#                            with systemd, dbus, docker.io, iptables, iproute2, procps, mariadb-server
#                            and nginx-light (Depends only: no kmod, no apparmor, no busybox; nothing
#                            added for RunCVM). CMD /sbin/init, STOPSIGNAL SIGRTMIN+3 (systemd's clean
#                            shutdown signal). Tarball cached in .cache/images/ (first build ~65 s).
#   runcvm-test/system-apparmor  runcvm-test/system + apparmor (apparmor_parser): an image that uses
#                            AppArmor, so RunCVM must leave it enabled.
#   runcvm-test/debian-kmod  runcvm-test/debian + Debian's kmod (/sbin/modprobe, lsmod).
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
    chmod 755 "$r" # the chroot's / while maintainer scripts run (see build_system)
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

# The package list of a system image (Debian names; their Depends come along, Recommends do not).
SYSTEM_PKGS=systemd,systemd-sysv,dbus,docker.io,iptables,iproute2,procps,mariadb-server,nginx-light
build_system() {
  local image=runcvm-test/system tarball=$CACHE/debian-bookworm-system.tar
  have_image $image && return 0
  if [ ! -s "$tarball" ] || [ -n "${FORCE:-}" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 1; }
    local r mirror tmp; r=$(mktemp -d); mirror=$(debian_mirror)
    # mktemp's 0700 would be the chroot's / while maintainer scripts run: mariadb-server's postinst
    # creates its databases as the mysql user, which could not reach /var/lib/mysql and /tmp.
    chmod 755 "$r"
    log "debootstrap minbase bookworm + $SYSTEM_PKGS from $mirror (~65 s)"
    if ! debootstrap --variant=minbase --include="$SYSTEM_PKGS" bookworm "$r" "$mirror" >"$CACHE/debootstrap-system.log" 2>&1; then
      log "debootstrap failed; see $CACHE/debootstrap-system.log"; rm -rf "$r"; exit 1
    fi
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
    # A unique temp name: several checkouts may share this cache and build at the same time.
    tmp=$(mktemp "$tarball.XXXXXX")
    tar -C "$r" --numeric-owner -cf "$tmp" . && mv "$tmp" "$tarball"
    rm -rf "$r"
  fi
  # `docker import --change` does not take STOPSIGNAL: a one-line build on top of the import does.
  local id
  id=$(docker import --change 'CMD ["/sbin/init"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tarball")
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$id" | docker build -q --pull=false -t $image - >/dev/null
  log "built $image (from $tarball)"
}

# <image> <from> <debs dir name> <packages...>: FROM a local image + .debs fetched with apt-get
# download (cached), installed offline by `docker build --pull=false`.
build_with_debs() {
  local image=$1 from=$2 debs=$CACHE/$3; shift 3
  have_image "$image" && return 0
  docker image inspect "$from" >/dev/null 2>&1 || { log "$image needs $from"; exit 1; }
  mkdir -p "$debs"
  ls "$debs"/"$1"_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download "$@" >"$debs.log" 2>&1) \
    || { log "apt-get download failed; see $debs.log"; exit 1; }
  local ctx; ctx=$(mktemp -d); trap 'rm -rf "$ctx"' RETURN
  cp -r "$debs" "$ctx/debs"
  printf '%s\n' "FROM $from" 'COPY debs/ /tmp/debs/' 'RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs' >"$ctx/Dockerfile"
  docker build -q --pull=false -t "$image" "$ctx" >/dev/null
  log "built $image"
}

want=${*:-bb bb-nopasswd debian}
for i in $want; do
  case $i in
    bb) build_bb ;;
    bb-nopasswd) build_bb_nopasswd ;;
    debian) build_debian ;;
    net) build_net ;;
    system) build_system ;;
    # Depends beyond the base image: apparmor none (libapparmor1 comes with systemd), kmod its libraries.
    system-apparmor) build_system; build_with_debs runcvm-test/system-apparmor runcvm-test/system apparmor-debs apparmor ;;
    debian-kmod) build_debian; build_with_debs runcvm-test/debian-kmod runcvm-test/debian kmod-debs kmod libkmod2 libssl3 ;;
    *) log "unknown image $i"; exit 2 ;;
  esac
done
