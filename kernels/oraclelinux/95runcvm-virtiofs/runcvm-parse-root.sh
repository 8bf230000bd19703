#!/bin/sh
# cmdline hook: accept root=virtiofs:<tag> so dracut does not wait for a block device.
case "$root" in
    virtiofs:*)
        modprobe -q virtiofs
        rootok=1
        ;;
esac
