// VmSpec: every input buildQemuArgs() needs, typed and already resolved (no defaults hide here:
// settings.ts owns defaults, ctr-qemu resolves nproc/paths/accelerator before building).
import type { Accel } from '../accel.js'

export type DisplayMode = 'headless' | 'serial' | 'vnc'

export interface NicSpec {
  /** Host-side tap name (tap-<if>). */
  tap: string
  /** Guest MAC (52:54:00:xx:xx:xx). */
  mac: string
  /** vhost-net backend (RUNCVM_QEMU_NET_VHOST=1). */
  vhost: boolean
}

export interface DiskAttach { file: string }

export interface VmSpec {
  /** Directory for -L (ROMs, firmware). */
  dataDir: string
  accel: Accel
  /** TCG translation cache size (MiB, RUNCVM_TCG_TB_SIZE); unused under KVM. */
  tcgTbSizeMiB: number
  usb: boolean
  /** QEMU size string, e.g. 512M. */
  memSize: string
  memBackend: 'shm' | 'hugetlb'
  prealloc: boolean
  cpus: number
  /** Container root over virtiofs (tag runcvmfs). */
  virtiofs: { socket: string; tag: string; queueSize: number }
  /** The package, read-only with cache=always, mounted over RUNCVM_GUEST in the VM. */
  pkgfs?: { socket: string; tag: string; queueSize: number }
  nics: NicSpec[]
  disks: DiskAttach[]
  /** AIO engine for the disks (RUNCVM_DISK_AIO, decided at create from the seccomp profile). */
  diskAio: 'io_uring' | 'threads'
  display: {
    mode: DisplayMode
    /** -display frontend ('' = leave QEMU's default). */
    frontend: string
    /** -vga adaptor ('' = leave QEMU's default). */
    vga: string
    vncDisplay?: number
  }
  /** efi: OVMF code (read-only) and a writable per-container copy of its variable store. */
  bios: { efi?: { code: string; vars: string }; debug: boolean }
  sockets: { agent: string; monitor: string; qmp: string; control: string }
  /**
   * Non-tty run (no `-t`): the workload's stdout/stderr (and stdin with `-i`) go through these
   * virtio-serial ports to the container's fds 1/2 (0); the console then only writes, to fd 2.
   * Absent: `-t`, the console is the workload's terminal on QEMU's stdio.
   */
  stdioPorts?: { stdin?: string; stdout: string; stderr: string }
  /** virtio-serial port name carrying "stop" to runcvm-init --vm. */
  controlPort: string
  /** `-t`: port + QEMU-side socket for window sizes (runcvm-init --tty-relay → --tty-port). */
  ttyPort?: { name: string; socket: string }
  kernel: { path: string; initrd: string; cmdline: string }
}
