// runcvm-ctr-qemu: supervised by runcvm-init in the container. Prepares disks and fstab, decides
// the accelerator, builds the QEMU argv (lib/qemu/args.ts) and execve's QEMU.
//   runcvm-ctr-qemu --watchdog <pid>   (internal) KVM-stuck watchdog, see lib/qemu/qmp.ts
// Env: RUNCVM_* via /.runcvm/config.json; RUNCVM_BREAK=preqemu prints the command and opens a shell.
import { chmodSync, copyFileSync, existsSync, readlinkSync, rmSync, statSync } from 'node:fs'
import { isatty } from 'node:tty'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { parseSettings } from '../lib/settings.js'
import { readConfig, readNetwork, writeFstab, writeVm, statePath } from '../lib/state.js'
import { decideAccel, probeAccel } from '../lib/accel.js'
import { diskFstabLine, parseDisks, planDisk, type DiskSpec } from '../lib/disks.js'
import { applyCmds, shWord } from '../lib/sh.js'
import { buildQemuArgs } from '../lib/qemu/args.js'
import { buildCmdline } from '../lib/qemu/cmdline.js'
import { consoleDevice, displayOf } from '../lib/qemu/display.js'
import { guestMac, tapName } from '../lib/net/plan.js'
import { BIN, OVMF_VARS_COPY, STDIO_PORTS, CONTROL_PORT, CONTROL_SOCKET, TTY_PORT, TTY_SOCKET, PKG_TAG, PKG_VIRTIOFSD_SOCKET } from '../lib/vm/bins.js'
import { hostTimer } from '../lib/vm/timing.js'
import { buildVmInitScript } from '../lib/vm/init-script.js'
import { readInitInput } from '../lib/vm/init-facts.js'
import { guestKernelOpts } from '../lib/vm/guest-kernel.js'
import { writeFileAtomic } from '../lib/fsx.js'
import { runWatchdog } from '../lib/qemu/qmp.js'
import { RUNCVM_GUEST, QEMU_GUEST_AGENT_SOCKET, QEMU_MONITOR_SOCKET, QMP_SOCKET, VIRTIOFSD_SOCKET, guestScript } from '../lib/paths.js'
import { ConfigError, ExecError } from '../lib/errors.js'
import { execve, reportAndExit } from '../lib/proc.js'

/** A KVM boot reaches vm-init in ~1 s; 30 s leaves room for a loaded host. */
const KVM_BOOT_TIMEOUT_MS = 30_000

function prepareDisk(d: DiskSpec, vmMount: string): string {
  const st = (p: string) => { try { return statSync(p) } catch { return undefined } }
  const src = st(d.src), dst = st(`${vmMount}${d.dst}`)
  const cmds = planDisk(d, { srcExists: !!src, srcIsFile: !!src?.isFile(), dstExists: !!dst, dstIsDir: !!dst?.isDirectory() },
    { busybox: BIN.busybox, mke2fs: BIN.mke2fs, vmMount })
  try {
    applyCmds(cmds, { stdio: 'ignore' })
  } catch (e) {
    const what = e instanceof ExecError && e.cmd[0] === BIN.mke2fs ? `mke2fs on '${d.src}' with fs '${d.fs}' failed` : `truncate on '${d.src}' with size '${d.size}' failed`
    throw new ConfigError(`disk spec '${d.spec}' invalid: ${what}`, { cause: e })
  }
  const uuid = execFileSync(BIN.blkid, ['-o', 'value', '-s', 'UUID', d.src], { encoding: 'utf8' }).trim().split('\n')[0]
  return diskFstabLine(d, uuid)
}

const stdinOpen = (): boolean => { try { return readlinkSync('/proc/self/fd/0') !== '/dev/null' } catch { return false } }

/**
 * `-t`: the pty's size (docker sets it from the client) via `stty size` (Node's tty streams would
 * reopen fd 1 non-blocking under QEMU), and `-onlcr` on the container pty: the VM's console
 * already turns "\n" into "\r\n" (QEMU keeps OPOST but leaves ONLCR as found), so the client
 * sees one "\r\n" as under runc, not "\r\r\n".
 */
function windowSize(): { rows: number; cols: number } | undefined {
  spawnSync(BIN.busybox, ['stty', '-onlcr'], { stdio: ['inherit', 'ignore', 'ignore'] })
  const r = spawnSync(BIN.busybox, ['stty', 'size'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' })
  const m = /^(\d+) (\d+)/.exec(r.stdout ?? '')
  return m && Number(m[1]) > 0 ? { rows: Number(m[1]), cols: Number(m[2]) } : undefined
}

function main(): void {
  const cfg = readConfig()
  const s = parseSettings(cfg.settingsEnv)
  const mark = hostTimer(s.RUNCVM_BOOT_TIMING)
  mark('ctr-qemu')
  const accel = decideAccel(s.RUNCVM_ACCEL, probeAccel())
  if (accel.warning) process.stderr.write(accel.warning + '\n')

  const disks = parseDisks(s.RUNCVM_DISKS)
  const fstab = [...s.RUNCVM_TMPFS.split('\n').filter(l => l.trim()), ...disks.map(d => prepareDisk(d, s.RUNCVM_VM_MOUNTPOINT))]
  if (fstab.length) writeFstab(fstab)

  if (s.RUNCVM_BIOS === 'EFI') copyFileSync(BIN.ovmfVars, OVMF_VARS_COPY)
  const display = displayOf(s)
  const pkgfs = existsSync(PKG_VIRTIOFSD_SOCKET)
  // `-t` (docker gives the container a pty on fds 0-2): the console is the workload's terminal,
  // sized as the client's. Otherwise stdio ports (lib/qemu/args.ts stdioPortArgs); stdin only
  // with `-i` (without it fd 0 is /dev/null, which the workload then keeps, as under runc).
  const tty = isatty(1)
  const stdioPorts = tty ? undefined : { ...(stdinOpen() ? { stdin: STDIO_PORTS.stdin } : {}), stdout: STDIO_PORTS.stdout, stderr: STDIO_PORTS.stderr }
  const ttySize = tty ? windowSize() : undefined
  writeVm({
    v: 1, console: consoleDevice(display.mode), controlPort: CONTROL_PORT, ...(pkgfs ? { pkgTag: PKG_TAG } : {}),
    ...(stdioPorts ? { stdio: stdioPorts } : {}), ...(ttySize ? { ttySize } : {}), ...(tty ? { ttyPort: TTY_PORT } : {}),
  })
  const net = readNetwork()
  // Plan in the container, apply in the VM: the VM's init is a busybox sh script with every
  // decision taken here at native speed (no Node start in the VM, DESIGN §4).
  const vmInit = statePath('vmInit')
  const initInput = readInitInput(s.RUNCVM_VM_MOUNTPOINT)
  writeFileAtomic(vmInit, buildVmInitScript(initInput))
  chmodSync(vmInit, 0o755)
  mark('ctr-qemu-plan')
  const args = buildQemuArgs({
    dataDir: BIN.qemuData, accel: accel.accel, usb: s.RUNCVM_QEMU_USB,
    memSize: s.RUNCVM_MEM_SIZE ?? '512M', memBackend: s.RUNCVM_HUGETLB ? 'hugetlb' : 'shm', prealloc: s.RUNCVM_QEMU_MEM_PREALLOC === 'on',
    cpus: cfg.cpus,
    virtiofs: { socket: VIRTIOFSD_SOCKET, tag: 'runcvmfs', queueSize: 1024 },
    ...(pkgfs ? { pkgfs: { socket: PKG_VIRTIOFSD_SOCKET, tag: PKG_TAG, queueSize: 1024 } } : {}),
    nics: net.interfaces.map(n => ({ tap: tapName(n.name), mac: guestMac(n.mac), vhost: s.RUNCVM_QEMU_NET_VHOST })),
    disks: disks.map(d => ({ file: d.src })),
    display,
    bios: { debug: s.RUNCVM_BIOS_DEBUG, ...(s.RUNCVM_BIOS === 'EFI' ? { efi: { code: BIN.ovmfCode, vars: OVMF_VARS_COPY } } : {}) },
    sockets: { agent: QEMU_GUEST_AGENT_SOCKET, monitor: QEMU_MONITOR_SOCKET, qmp: QMP_SOCKET, control: CONTROL_SOCKET },
    controlPort: CONTROL_PORT,
    ...(tty ? { ttyPort: { name: TTY_PORT, socket: TTY_SOCKET } } : {}),
    ...(stdioPorts ? { stdioPorts } : {}),
    kernel: {
      path: s.RUNCVM_KERNEL_PATH, initrd: s.RUNCVM_KERNEL_INITRAMFS_PATH,
      cmdline: buildCmdline({
        root: s.RUNCVM_KERNEL_ROOT, init: vmInit, ...(pkgfs ? { pkgTag: PKG_TAG } : {}), originPath: `${RUNCVM_GUEST}/usr/bin`, consoleDev: consoleDevice(display.mode),
        nomodeset: display.mode !== 'vnc' && (display.vga === '' || display.vga === 'none'), debug: s.RUNCVM_KERNEL_DEBUG, append: s.RUNCVM_KERNEL_APPEND,
        ...guestKernelOpts(initInput.image, s),
      }),
    },
  })
  // QEMU_MODULE_DIR: the TCG accelerator and display devices (virtio-vga...) are loadable modules.
  const env = { ...process.env, TERMINFO: BIN.terminfo, QEMU_MODULE_DIR: BIN.qemuModules }
  if (s.RUNCVM_BREAK.includes('preqemu')) {
    process.stdout.write(`Preparing to run: ${[BIN.qemu, ...args].map(shWord).join(' ')}\n`)
    spawnSync(BIN.busybox, ['sh'], { stdio: 'inherit', env })
  }
  // QEMU keeps this PID after execve: the watchdog watches it over QMP.
  if (accel.accel === 'kvm') rmSync(statePath('booted'), { force: true })
  if (accel.accel === 'kvm') spawn(guestScript('ctr-qemu'), ['--watchdog', String(process.pid)], { detached: true, stdio: ['ignore', 'ignore', 'inherit'] }).unref()
  mark('ctr-qemu-exec')
  if (s.RUNCVM_QEMU_DEBUG) {
    const r = spawnSync(BIN.qemu, args, { stdio: 'inherit', env })
    process.stderr.write(`QEMU exited with code: ${r.status ?? r.signal}\n`)
    try { process.stderr.write(`QEMU memory cgroup events:\n${execFileSync(BIN.busybox, ['cat', '/sys/fs/cgroup/memory.events'], { encoding: 'utf8' })}`) } catch { /* cgroup v1 */ }
    process.exit(r.status ?? 1)
  }
  execve(BIN.qemu, [BIN.qemu, ...args], env)
}

if (process.argv[2] === '--watchdog') {
  runWatchdog({ pid: Number(process.argv[3]), qmp: QMP_SOCKET, exitStatusFile: statePath('exitStatus'), bootedFile: statePath('booted'), bootTimeoutMs: KVM_BOOT_TIMEOUT_MS })
} else {
  try { main() } catch (e) { reportAndExit(e) }
}
