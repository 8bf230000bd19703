// Package binaries as the container and the VM see them (the package is mounted read-only at
// RUNCVM_GUEST in both). Constants only; see docs/ARCHITECTURE.md for the tree.
import { RUNCVM_GUEST as G } from '../paths.js'

export const BIN = {
  node: `${G}/usr/bin/node`,
  busybox: `${G}/usr/bin/busybox`,
  ip: `${G}/usr/sbin/ip`,
  xtables: `${G}/usr/sbin/xtables-nft-multi`,
  xtablesLibdir: `${G}/usr/lib/xtables`,
  dnsmasq: `${G}/usr/sbin/dnsmasq`,
  mke2fs: `${G}/usr/sbin/mke2fs`,
  blkid: `${G}/usr/sbin/blkid`,
  mount: `${G}/usr/bin/mount`,
  qemu: `${G}/usr/bin/qemu-system-x86_64`,
  qemuModules: `${G}/usr/lib/qemu-modules`,
  qemuData: `${G}/usr/share/qemu`,
  ovmfCode: `${G}/usr/share/OVMF/OVMF_CODE.fd`,
  ovmfVars: `${G}/usr/share/OVMF/OVMF_VARS.fd`,
  terminfo: `${G}/usr/share/terminfo`,
  virtiofsd: `${G}/usr/lib/qemu/virtiofsd`,
  qemuGa: `${G}/usr/bin/qemu-ga`,
  runcvmInit: `${G}/sbin/runcvm-init`,
  poweroff: `${G}/bin/poweroff`,
  init: `${G}/bin/init`,
  /** busybox modprobe: the kernel's usermode modprobe for images without one (lib/vm/guest-kernel.ts). */
  modprobe: `${G}/bin/modprobe`,
} as const

/** Our virtio-serial port for "stop" requests (runcvm-init --control-port). */
export const CONTROL_PORT = 'org.runcvm.control'
/** Non-tty runs: the workload's stdio ports (runcvm-init --stdin/--stdout/--stderr port:NAME). */
export const STDIO_PORTS = { stdin: 'org.runcvm.stdin', stdout: 'org.runcvm.stdout', stderr: 'org.runcvm.stderr' } as const
/** Container-side socket behind that port (container /run: not visible in the VM). */
export const CONTROL_SOCKET = '/run/.runcvm-control'
/** `-t`: port + container-side socket for window resizes (container runcvm-init --tty-relay → VM --tty-port). */
export const TTY_PORT = 'org.runcvm.tty'
export const TTY_SOCKET = '/run/.runcvm-tty'
/** Second virtiofsd: the package, read-only, cache=always (see ctr-entrypoint). */
export const PKG_VIRTIOFSD_SOCKET = '/run/.virtiofs-pkg.sock'
export const PKG_VIRTIOFSD_LOG = '/run/.virtiofsd-pkg.log'
export const PKG_TAG = 'runcvmpkg'
/** Writable copy of the OVMF variable store (container /run). */
export const OVMF_VARS_COPY = '/run/.ovmf-vars.fd'
