// planVmBoot(config, settings, probes): the decisions ctr-qemu takes before QEMU starts, as one
// pure function (golden-tested: tests/golden/boot-*.txt). ctr-qemu reads the state and the
// probes, plans, applies the plan (disk commands, state files, the EFI variable store copy) and
// execs QEMU; the VM's Node init fallback (runcvm-vm-init) re-plans from the state ctr-qemu saved
// (probesFromState) and gets the very same init script.
//
// Decided here:
// - disks: the backing-file commands and fstab lines (lib/disks.ts), after the tmpfs lines the
//   runtime passed in RUNCVM_TMPFS;
// - stdio: with `-t` (docker gives the container a pty on fds 0-2) the console is the workload's
//   terminal, sized as the client's, with a tty port for later resizes; otherwise virtio-serial
//   ports for stdout/stderr, and for stdin only with `-i` (without it fd 0 is /dev/null, which the
//   workload then keeps, as under runc);
// - the VM state vm-init needs (console device, ports, the package's virtiofs tag when the
//   package virtiofsd runs);
// - the VM's init script (lib/vm/init-script.ts) and the kernel command line pointing at it;
// - QEMU's inputs (lib/qemu/vm-spec.ts): memory (RUNCVM_MEM_SIZE, whose default settings.ts
//   owns), memory backend, vCPUs (lib/sizing.ts vcpuCount), NICs, disks, display
//   (lib/qemu/display.ts), firmware, sockets; `nomodeset` for a text console (no VGA adaptor and
//   not vnc);
// - what the guest kernel offers the image (lib/vm/guest-kernel.ts): IPv6, AppArmor, modules on
//   demand (the package's modprobe, hidden modules.devname) when the kernel is the package's.
// The accelerator is decided before (lib/accel.ts, its warning goes out first) and comes in, and
// so does the boot watchdog's decision (lib/qemu/watchdog.ts), which needs the probe's details.
import type { Accel } from '../accel.js'
import { parseDisks, planDisk, type DiskPlan, type DiskProbe } from '../disks.js'
import { guestMac, tapName } from '../net/plan.js'
import {
  BIN, CONTROL_PORT, CONTROL_SOCKET, OVMF_VARS_COPY, PKG_TAG, PKG_VIRTIOFSD_SOCKET, QEMU_GUEST_AGENT_SOCKET, QEMU_MONITOR_SOCKET,
  QMP_SOCKET, ROOT_TAG, RUNCVM_GUEST, STDIO_PORTS, TTY_PORT, TTY_SOCKET, VIRTIOFSD_SOCKET, statePath,
} from '../paths.js'
import { buildQemuArgs } from '../qemu/args.js'
import { buildCmdline } from '../qemu/cmdline.js'
import { consoleDevice, displayOf } from '../qemu/display.js'
import type { VmSpec } from '../qemu/vm-spec.js'
import type { RunCvmSettings } from '../settings.js'
import { machineMaxCpus, vcpuCount } from '../sizing.js'
import type { ConfigState, NetworkState, VmState } from '../state.js'
import { launchPaths } from './launch.js'
import { buildVmInitScript, type ImageFacts } from './init-script.js'
import { guestKernelOpts, isPackageKernel } from './guest-kernel.js'

/** virtio queue size for both virtiofs devices (upstream value). */
const VIRTIOFS_QUEUE_SIZE = 1024

/** What ctr-qemu reads before planning (lib/vm/boot-probes.ts gathers it). */
export interface BootProbes {
  /** The accelerator, already decided (lib/accel.ts decideAccel). */
  accel: Accel
  /** KVM_CAP_MAX_VCPUS of the host's KVM, when the probe reported it. */
  maxVcpus?: number
  /** CPUs the container may use (its affinity: availableParallelism()). */
  hostCpus: number
  /** fd 1 is a terminal: `docker run -t`. */
  tty: boolean
  /** With tty: the pty's size as the client set it (undefined when it could not be read). */
  ttySize?: { rows: number; cols: number }
  /** fd 0 is not /dev/null: `docker run -i`. */
  stdinOpen: boolean
  /** The package's virtiofsd is listening (ctr-entrypoint started it). */
  pkgfs: boolean
  /** One per RUNCVM_DISKS entry, in order. */
  disks: readonly DiskProbe[]
  /** Fresh filesystem UUIDs, one per RUNCVM_DISKS entry, for the disks this boot creates. */
  newUuids: readonly string[]
  /** The container's network as ctr-entrypoint saved it. */
  net: NetworkState
  /** The image as seen under RUNCVM_VM_MOUNTPOINT (entrypoint, group, hostname, fstab). */
  image: ImageFacts
}

export interface BootPlan {
  /** Disk commands per disk, to run first (a failure names its disk spec). */
  disks: DiskPlan[]
  /** /.runcvm/fstab lines (tmpfs + disks); none: no file. */
  fstab: string[]
  /** Files to copy before QEMU starts: the writable EFI variable store. */
  copies: [from: string, to: string][]
  vmState: VmState
  /** /.runcvm/vm-init.sh, the kernel's init=. */
  initScript: string
  vmSpec: VmSpec
  /** QEMU: the binary, its argv (without argv[0]) and what its environment adds. */
  qemu: { file: string; args: string[]; env: Record<string, string> }
}

export function planVmBoot(cfg: ConfigState, s: RunCvmSettings, p: BootProbes): BootPlan {
  const vmMount = s.RUNCVM_VM_MOUNTPOINT
  const disks = parseDisks(s.RUNCVM_DISKS).map((d, i) =>
    planDisk(d, p.disks[i], { busybox: BIN.busybox, mke2fs: BIN.mke2fs, vmMount }, p.newUuids[i]))
  const fstab = [...s.RUNCVM_TMPFS.split('\n').filter(l => l.trim()), ...disks.map(d => d.fstab)]

  const display = displayOf(s)
  const stdioPorts = p.tty ? undefined
    : { ...(p.stdinOpen ? { stdin: STDIO_PORTS.stdin } : {}), stdout: STDIO_PORTS.stdout, stderr: STDIO_PORTS.stderr }
  const vmState: VmState = {
    v: 1, console: consoleDevice(display.mode), controlPort: CONTROL_PORT, ...(p.pkgfs ? { pkgTag: PKG_TAG } : {}),
    ...(stdioPorts ? { stdio: stdioPorts } : {}), ...(p.tty && p.ttySize ? { ttySize: p.ttySize } : {}), ...(p.tty ? { ttyPort: TTY_PORT } : {}),
  }

  // Plan in the container, apply in the VM: the VM's init is a busybox sh script with every
  // decision taken here at native speed (a Node start in the VM costs seconds under TCG).
  const initScript = buildVmInitScript({
    cfg, vm: vmState, net: p.net, fstab, image: p.image, launch: launchPaths(vmState),
    settings: {
      RUNCVM_INIT: s.RUNCVM_INIT, RUNCVM_BOOT_TIMING: s.RUNCVM_BOOT_TIMING, RUNCVM_CGROUPFS: s.RUNCVM_CGROUPFS,
      RUNCVM_SHM_SIZE: s.RUNCVM_SHM_SIZE, RUNCVM_SYSCTL: s.RUNCVM_SYSCTL, RUNCVM_RLIMITS: s.RUNCVM_RLIMITS,
      RUNCVM_IPV6: s.RUNCVM_IPV6,
    },
    packageModules: isPackageKernel(s.RUNCVM_KERNEL_PATH),
  })

  const efi = s.RUNCVM_BIOS === 'EFI'
  const vmSpec: VmSpec = {
    dataDir: BIN.qemuData, accel: p.accel, tcgTbSizeMiB: s.RUNCVM_TCG_TB_SIZE, usb: s.RUNCVM_QEMU_USB,
    memSize: s.RUNCVM_MEM_SIZE, memBackend: s.RUNCVM_HUGETLB ? 'hugetlb' : 'shm', prealloc: s.RUNCVM_QEMU_MEM_PREALLOC === 'on',
    cpus: vcpuCount({ specLimit: s.RUNCVM_CPUS, hostCpus: p.hostCpus, machineMax: machineMaxCpus(p.accel, p.maxVcpus) }),
    virtiofs: { socket: VIRTIOFSD_SOCKET, tag: ROOT_TAG, queueSize: VIRTIOFS_QUEUE_SIZE },
    ...(p.pkgfs ? { pkgfs: { socket: PKG_VIRTIOFSD_SOCKET, tag: PKG_TAG, queueSize: VIRTIOFS_QUEUE_SIZE } } : {}),
    nics: p.net.interfaces.map(n => ({ tap: tapName(n.name), mac: guestMac(n.mac), vhost: s.RUNCVM_QEMU_NET_VHOST })),
    disks: disks.map(d => ({ file: d.disk.src })), diskAio: s.RUNCVM_DISK_AIO,
    display,
    bios: { debug: s.RUNCVM_BIOS_DEBUG, ...(efi ? { efi: { code: BIN.ovmfCode, vars: OVMF_VARS_COPY } } : {}) },
    sockets: { agent: QEMU_GUEST_AGENT_SOCKET, monitor: QEMU_MONITOR_SOCKET, qmp: QMP_SOCKET, control: CONTROL_SOCKET },
    controlPort: CONTROL_PORT,
    ...(p.tty ? { ttyPort: { name: TTY_PORT, socket: TTY_SOCKET } } : {}),
    ...(stdioPorts ? { stdioPorts } : {}),
    kernel: {
      path: s.RUNCVM_KERNEL_PATH, initrd: s.RUNCVM_KERNEL_INITRAMFS_PATH,
      cmdline: buildCmdline({
        root: s.RUNCVM_KERNEL_ROOT, init: statePath('vmInit'), ...(p.pkgfs ? { pkgTag: PKG_TAG } : {}),
        originPath: `${RUNCVM_GUEST}/usr/bin`, consoleDev: vmState.console,
        // A text console needs no framebuffer driver work.
        nomodeset: display.mode !== 'vnc' && (display.vga === '' || display.vga === 'none'),
        debug: s.RUNCVM_KERNEL_DEBUG, append: s.RUNCVM_KERNEL_APPEND,
        // IPv6 and AppArmor (lib/vm/guest-kernel.ts).
        ...guestKernelOpts(p.image, s),
      }),
    },
  }
  return {
    disks, fstab, copies: efi ? [[BIN.ovmfVars, OVMF_VARS_COPY]] : [], vmState, initScript, vmSpec,
    // QEMU_MODULE_DIR: the TCG accelerator and display devices (virtio-vga...) are loadable modules.
    qemu: { file: BIN.qemu, args: buildQemuArgs(vmSpec), env: { TERMINFO: BIN.terminfo, QEMU_MODULE_DIR: BIN.qemuModules } },
  }
}

/**
 * The probes as ctr-qemu saw them, recovered from what it saved (vm.json, fstab) plus what the VM
 * can read itself (network state, the image at '/'), for the Node init fallback in the VM: planning
 * again from these gives the init script ctr-qemu wrote. Disks exist by then; their UUIDs are in
 * the saved fstab. The accelerator does not matter to the init script.
 */
export function probesFromState(vm: VmState, fstab: readonly string[], disksSetting: string, net: NetworkState, image: ImageFacts): BootProbes {
  const uuidOf = (dst: string) => fstab.map(l => l.split(/\s+/)).find(f => f[1] === dst && f[0].startsWith('UUID='))?.[0].slice(5) ?? ''
  const disks = parseDisks(disksSetting)
  return {
    accel: 'tcg', hostCpus: 1, tty: vm.ttyPort !== undefined, ...(vm.ttySize ? { ttySize: vm.ttySize } : {}),
    stdinOpen: vm.stdio?.stdin !== undefined, pkgfs: vm.pkgTag !== undefined,
    disks: disks.map(d => ({ srcExists: true, srcIsFile: true, dstExists: true, dstIsDir: true, uuid: uuidOf(d.dst) })),
    newUuids: disks.map(() => ''), net, image,
  }
}

