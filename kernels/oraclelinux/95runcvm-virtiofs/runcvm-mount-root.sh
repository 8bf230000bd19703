#!/bin/sh
# pre-mount hook: mount the virtiofs tag named by root=virtiofs:<tag> on $NEWROOT.
# rootflags= from the command line win; otherwise read-write (RunCVM's root is the container's
# writable layer, exported by virtiofsd).
command -v getarg >/dev/null || . /lib/dracut-lib.sh   # dracut's getarg/info helpers

case "$root" in
    virtiofs:*) ;;
    *) return 0 2>/dev/null || exit 0 ;;
esac

tag=${root#virtiofs:}
flags=$(getarg rootflags=)
[ -n "$flags" ] || flags=rw

modprobe -q virtiofs
if ! mount -t virtiofs -o "$flags" "$tag" "$NEWROOT"; then
    warn "runcvm: cannot mount virtiofs tag '$tag' on $NEWROOT"
    return 1 2>/dev/null || exit 1
fi
info "runcvm: mounted virtiofs tag '$tag' on $NEWROOT ($flags)"
