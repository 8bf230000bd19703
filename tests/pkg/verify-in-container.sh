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

echo "verify-in-container: $passes passed, $fails failed (binaries run in $IMAGE from a read-only tree)"
[ $fails -eq 0 ]
