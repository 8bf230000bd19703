#!/bin/bash
# dracut module: mount the root filesystem from a virtiofs tag (root=virtiofs:<tag>) for RunCVM.

# Include only on demand (add_dracutmodules) or when the running system's root is virtiofs.
check() {
    if [[ $hostonly ]]; then
        local fs
        for fs in "${host_fs_types[@]}"; do [[ $fs == virtiofs ]] && return 0; done
        return 255
    fi
    return 0
}

depends() {
    return 0
}

# virtiofs itself, plus the virtio transports and devices a RunCVM VM presents.
installkernel() {
    hostonly='' instmods virtiofs fuse virtio virtio_ring virtio_pci virtio_mmio \
        virtio_console virtio_net virtio_blk virtio_scsi virtio_rng qemu_fw_cfg
}

install() {
    inst_hook cmdline 90 "$moddir/runcvm-parse-root.sh"
    inst_hook pre-mount 90 "$moddir/runcvm-mount-root.sh"
}
