#!/bin/bash
# tests/pkg/verify-in-container.sh — every bundled binary runs inside a busybox-only image (no libc,
# no /etc/passwd) with the package tree mounted read-only at /.runcvm/guest, as the roles run them.
# One line per binary; exits non-zero if any fails. Needs dockerd; makes bb:latest if absent.
# Usage: tests/pkg/verify-in-container.sh [TREE]   (default: dist/opt/runcvm)
set -u
TREE=$(cd "${1:-$(dirname "$0")/../../dist/opt/runcvm}" && pwd) || { echo "no package tree" >&2; exit 2; }
IMAGE=${IMAGE:-bb:latest}
G=/.runcvm/guest

if ! docker info >/dev/null 2>&1; then
  echo "dockerd not reachable: start it (dockerd >/tmp/dockerd.log 2>&1 &)" >&2
  exit 2
fi
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  r=$(mktemp -d) && cp "$TREE/usr/bin/busybox" "$r/busybox" && tar -C "$r" -c . | docker import - "$IMAGE" >/dev/null && rm -rf "$r"
fi

fails=0 passes=0
# name | command line run in the container | regexp its combined output must match
check() {
  local name=$1 pattern=$2; shift 2
  local out rc
  out=$(docker run --rm --pull=never --network=none -v "$TREE:$G:ro" -e XTABLES_LIBDIR=$G/usr/lib/xtables "$IMAGE" "$@" 2>&1)
  rc=$?
  if printf '%s' "$out" | grep -Eq -- "$pattern"; then
    printf 'ok    %-22s %s\n' "$name" "$(printf '%s' "$out" | grep -Em1 -- "$pattern" | cut -c1-90)"
    passes=$((passes + 1))
  else
    printf 'FAIL  %-22s rc=%s %s\n' "$name" "$rc" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)"
    fails=$((fails + 1))
  fi
}

check qemu-system-x86_64 'QEMU emulator version' $G/usr/bin/qemu-system-x86_64 --version
# The TCG module must load from the tree (no QEMU_MODULE_DIR needed; see packaging/plan.ts LINKS).
check qemu-tcg-module    '^tcg$'                 $G/usr/bin/qemu-system-x86_64 -accel help
check qemu-firmware      'bios-256k.bin'         $G/bin/ls $G/usr/share/qemu
check node               '^function$'            $G/usr/bin/node -e 'console.log(typeof process.execve)'
check virtiofsd          'usage: .*virtiofsd'    $G/usr/lib/qemu/virtiofsd --help
check dnsmasq            'Dnsmasq version'       $G/usr/sbin/dnsmasq --version
# Patched dnsmasq: -u root -g root works although the image has no /etc/passwd or /etc/group.
check dnsmasq-no-passwd  'dnsmasq: syntax check OK' $G/usr/sbin/dnsmasq --test -u root -g root
check dropbear           'Dropbear v[0-9]'       $G/usr/sbin/dropbear -V
check dbclient           'Dropbear v'            $G/usr/bin/dbclient -V
check dropbearkey        'Public key portion'    $G/usr/bin/dropbearkey -t ed25519 -f /dev/shm/k
# Patched dropbear end to end, in an image without /etc/passwd: root is synthesized, keys come from
# /.runcvm/dropbear, and dbclient -y -y says nothing on stderr about the host key.
check dropbear-login '^login-ok uid=0 stderr=$' $G/bin/sh -c '
  G=/.runcvm/guest; D=/.runcvm/dropbear; PATH=$G/bin
  mkdir -p $D && chmod 700 $D
  $G/usr/bin/dropbearkey -t ed25519 -f $D/ed25519_host_key >/dev/null 2>&1
  $G/usr/bin/dropbearkey -t ed25519 -f /dev/shm/id 2>/dev/null | grep ^ssh-ed25519 > $D/authorized_keys
  chmod 600 $D/authorized_keys
  $G/usr/sbin/dropbear -F -E -s -p 127.0.0.1:2222 -r $D/ed25519_host_key 2>/dev/shm/dropbear.log &
  sleep 1
  out=$($G/usr/bin/dbclient -y -y -i /dev/shm/id -p 2222 root@127.0.0.1 "echo login-ok uid=\$(id -u)" 2>/dev/shm/err)
  echo "$out stderr=$(cat /dev/shm/err)"
  kill %1 2>/dev/null; cat /dev/shm/dropbear.log >&2' 
check ip                 'ip utility, iproute2'  $G/usr/sbin/ip -V
check iptables-nft       'iptables v.*nf_tables' $G/usr/sbin/iptables-nft -V
check iptables-legacy    'iptables v.*legacy'    $G/usr/sbin/iptables-legacy -V
check mke2fs             'mke2fs [0-9]'          $G/usr/sbin/mke2fs -V
check blkid              'blkid from util-linux' $G/usr/sbin/blkid -V
check findmnt            'findmnt from util-linux' $G/usr/bin/findmnt -V
check mount              'mount from util-linux' $G/usr/bin/mount -V
check qemu-ga            'QEMU Guest Agent'      $G/usr/bin/qemu-ga -V
check busybox            'BusyBox v'             $G/usr/bin/busybox
check busybox-sh-applet  '^applet-ok$'           $G/bin/sh -c 'echo applet-ok'
# Static C helpers from native/ (their behaviour is tested by their own tests): present, executable.
for h in runcvm-init qemu-exit; do
  if [ -e "$TREE/sbin/$h" ]; then check "$h" '^-rwxr-xr-x' $G/bin/ls -l $G/sbin/$h; fi
done

# libc's iconv never reads the image's gconv configuration (packaging/loader-paths.ts rewrites its
# compiled-in gconv directory, as ld.so's preload/cache and libc's nsswitch.conf paths): an image
# whose /usr/lib/x86_64-linux-gnu/gconv/gconv-modules names a charset; iconv_open of that charset
# from the package's libc must fail. The control run points GCONV_PATH (never the image's: RunCVM
# builds the container-side env) at the same directory and must succeed, so the probe can see a read.
if command -v cc >/dev/null 2>&1; then
  gd=$(mktemp -d)
  printf '%s\n' '#include <iconv.h>' '#include <stdio.h>' \
    'int main(void) { iconv_t c = iconv_open("RUNCVMIMAGE//", "UTF-8//"); puts(c == (iconv_t)-1 ? "gconv-image-ignored" : "gconv-image-read"); return 0; }' >"$gd/probe.c"
  mkdir "$gd/gconv" && printf 'alias\tRUNCVMIMAGE//\tANSI_X3.4-1968//\n' >"$gd/gconv/gconv-modules"
  if cc -O1 -o "$gd/gconv-probe" "$gd/probe.c"; then
    gconv_run() {
      docker run --rm --pull=never --network=none -v "$TREE:$G:ro" -v "$gd/gconv:/usr/lib/x86_64-linux-gnu/gconv:ro" \
        -v "$gd/gconv-probe:/gconv-probe:ro" "$IMAGE" $G/usr/bin/busybox env "$@" $G/lib/ld-linux-x86-64.so.2 --library-path $G/lib /gconv-probe 2>&1
    }
    gconv_check() { # name, expected output, env assignments for the probe
      local name=$1 want=$2 out; shift 2
      out=$(gconv_run "$@")
      if [ "$out" = "$want" ]; then printf 'ok    %-22s %s\n' "$name" "$out"; passes=$((passes + 1))
      else printf 'FAIL  %-22s want %s, got %s\n' "$name" "$want" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-150)"; fails=$((fails + 1)); fi
    }
    gconv_check gconv-image gconv-image-ignored
    gconv_check gconv-path-control gconv-image-read GCONV_PATH=/usr/lib/x86_64-linux-gnu/gconv
  else
    printf 'FAIL  %-22s cc could not build the iconv probe\n' gconv-image; fails=$((fails + 1))
  fi
  rm -rf "$gd"
else
  printf 'SKIP  %-22s no cc to build the iconv probe\n' gconv-image
fi

echo "verify-in-container: $passes passed, $fails failed (binaries run in $IMAGE from a read-only tree)"
[ $fails -eq 0 ]
