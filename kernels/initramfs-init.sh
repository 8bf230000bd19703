#!/bin/sh
# /init of the RunCVM initramfs (built by packaging/kernels.ts; busybox-static is the only program).
# Job: load the virtio/virtiofs modules the Debian kernel builds as modules, switch the console to
# hvc0 when asked, mount the container's root (virtiofs tag "runcvmfs") and switch_root to init=.
# Any failure prints why and powers the VM off: a hung shell would leave `docker run` waiting.
export PATH=/bin

fail() {
  echo "runcvm-initramfs: $*" >&2
  echo "runcvm-initramfs: powering off" >&2
  sleep 1
  poweroff -f
  exit 1
}

mount -t devtmpfs devtmpfs /dev || fail "cannot mount devtmpfs"
mount -t proc proc /proc || fail "cannot mount /proc"

# Modules in dependency order (modprobe --show-depends at build time); built-ins are absent.
while read -r m; do
  [ -n "$m" ] || continue
  insmod "/lib/modules/$m" 2>/dev/null || echo "runcvm-initramfs: insmod $m failed" >&2
done < /lib/modules/load.list

INIT=/sbin/init
ROOT=runcvmfs
CONSOLE=
ROOTFLAGS=rw
PKG=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    init=*) INIT=${arg#init=} ;;
    root=virtiofs:*) ROOT=${arg#root=virtiofs:} ;;
    root=*) ROOT=${arg#root=} ;;
    rootflags=*) ROOTFLAGS=${arg#rootflags=} ;;
    runcvm.pkg=*) PKG=${arg#runcvm.pkg=} ;;
    console=hvc0*) CONSOLE=hvc0 ;;
  esac
done

# hvc0 appears only once virtio_console has probed the device; wait up to ~1 s.
if [ "$CONSOLE" = hvc0 ]; then
  n=0
  while [ ! -e /dev/hvc0 ] && [ $n -lt 20 ]; do sleep 0.05; n=$((n + 1)); done
  if [ -e /dev/hvc0 ]; then exec 0<>/dev/hvc0 1>&0 2>&0; else echo "runcvm-initramfs: no /dev/hvc0" >&2; fi
fi

mount -t virtiofs -o "$ROOTFLAGS" "$ROOT" /newroot || fail "cannot mount virtiofs tag '$ROOT' on /newroot (is virtiofsd running?)"
[ -x "/newroot$INIT" ] || [ -L "/newroot$INIT" ] || fail "init '$INIT' is not executable in the root filesystem"

# The RunCVM package (read-only, cache=always) over the root's /.runcvm/guest before the switch, so
# the init script's busybox and every exec from the package read cached pages from the start.
[ -z "$PKG" ] || mount -t virtiofs -o ro "$PKG" /newroot/.runcvm/guest 2>/dev/null || echo "runcvm-initramfs: cannot mount package tag '$PKG'" >&2

# Hand /proc, /sys and /dev over (the init needs them at once); unmount only what cannot move.
mount -t sysfs sysfs /sys 2>/dev/null
mount --move /proc /newroot/proc 2>/dev/null || umount /proc
mount --move /sys /newroot/sys 2>/dev/null || umount /sys 2>/dev/null
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot "$INIT" || fail "switch_root to $INIT failed"
