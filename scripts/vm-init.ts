// runcvm-vm-init: the VM's PID 1 after the initramfs switch_roots onto the container root
// (kernel `init=`). The ONLY Node process on the VM boot path (DESIGN §4: each costs 0.3-1.1 s
// under TCG): it reproduces the container inside the VM (upstream runcvm-vm-init: mounts, /dev
// fixes, NICs by MAC, routes, hostname, fstab, cgroupfs, /.dockerenv) and then execve's
// runcvm-init (see lib/vm/launch.ts for the three launch modes).
// Helper commands are batched: one `busybox sh` or `ip -batch` per phase, never one spawn each.
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { parseSettings } from '../lib/settings.js'
import { readConfig, readFstab, readNetwork, readVm, statePath } from '../lib/state.js'
import { applyCmds, type Cmd } from '../lib/sh.js'
import { planGratuitousArp, planGuestNet } from '../lib/vm/net.js'
import { cgroupMode, planCgroupfs } from '../lib/vm/cgroupfs.js'
import { buildInittab, buildVmStartScript, cleanEnv, isInitEntrypoint, isSystemd, planLaunch, resolveOnPath } from '../lib/vm/launch.js'
import { planDevFixes, type MountInfo, parseMounts } from '../lib/vm/mounts.js'
import { BIN } from '../lib/vm/bins.js'
import { guestTimer } from '../lib/vm/timing.js'
import { RUNCVM_GUEST, guestScript } from '../lib/paths.js'
import { execve } from '../lib/proc.js'
import { startSshd } from '../lib/vm/sshd.js'

const text = (f: string) => { try { return readFileSync(f, 'utf8') } catch { return undefined } }
const quiet = { keepGoing: true, stdio: 'ignore' as const, batchSh: BIN.busybox, batchIp: BIN.ip }

function reopenStdio(dev: string, fds: number[] = [0, 1, 2]): void {
  for (const fd of fds) {
    try { closeSync(fd); openSync(dev, fd === 0 ? 'r' : 'w') } catch { /* keep going: a console is not vital */ }
  }
}

function main(): never {
  const started = process.hrtime.bigint()
  const cfg = readConfig(), s = parseSettings(cfg.settingsEnv), vm = readVm(), net = readNetwork()
  // First shell: /proc and /sys (the initramfs may leave them unmounted; ours moves only /dev),
  // and the package again, read-only with cache=always, so every later exec here is cheap.
  // When the initramfs already provides /proc and /sys (Debian's moves them), this shell is
  // skipped and the package mount leads the second one: each spawn here costs ~0.4-0.8 s.
  const pkgMount: Cmd[] = vm.pkgTag ? [[BIN.busybox, 'mount', '-t', 'virtiofs', '-o', 'ro', vm.pkgTag, RUNCVM_GUEST]] : []
  const first: Cmd[] = [
    ...(existsSync('/proc/self') ? [] : [[BIN.busybox, 'mount', '-t', 'proc', 'proc', '/proc']]),
    ...(existsSync('/sys/class') ? [] : [[BIN.busybox, 'mount', '-t', 'sysfs', 'sysfs', '/sys']]),
  ]
  if (first.length) applyCmds([...first, ...pkgMount.splice(0)], quiet)
  const mark = guestTimer(s.RUNCVM_BOOT_TIMING, started)
  mark('vm-init')


  const mounts: MountInfo[] = parseMounts(text('/proc/mounts') ?? '')
  const fsOf = (p: string) => mounts.filter(m => m.dir === p).at(-1)?.type
  const early: Cmd[] = [
    ...pkgMount,
    // Alpine's initramfs ignores `rw`; /.runcvm must be writable for exit status and fstab.
    [BIN.busybox, 'mount', '-o', 'remount,rw', '/'],
    [BIN.busybox, 'mount', '-o', 'remount,rw', '/.runcvm'],
    // /run as the image (or a volume) has it, not an initramfs tmpfs.
    ...(fsOf('/run') === 'tmpfs' ? [[BIN.busybox, 'umount', '-fl', '/run']] : []),
    ...(fsOf('/dev/pts') ? [] : [[BIN.busybox, 'mkdir', '-p', '/dev/pts'], [BIN.busybox, 'mount', '-t', 'devpts', '-o', 'gid=5,mode=620,ptmxmode=666', 'devpts', '/dev/pts']]),
    ...(fsOf('/dev/shm') ? [] : [[BIN.busybox, 'mkdir', '-p', '/dev/shm'], [BIN.busybox, 'mount', '-t', 'tmpfs', '-o', 'mode=1777,nosuid,nodev', 'shm', '/dev/shm']]),
  ]
  if (fsOf('/dev') === 'devtmpfs') planDevFixes(text('/etc/group'), readdirSync('/dev'), existsSync('/proc/kcore')).forEach(op => {
    try {
      if (op.op === 'symlink') {
        // ptmx: replace unless already a link; others: only when missing.
        const isLink = (() => { try { return lstatSync(op.path).isSymbolicLink() } catch { return false } })()
        if (op.path === '/dev/ptmx' ? !isLink : (op.force || !existsSync(op.path))) { rmSync(op.path, { force: true }); symlinkSync(op.target, op.path) }
      }
      else if (op.op === 'chmod') chmodSync(op.path, op.mode)
      else chownSync(op.path, 0, op.gid)
    } catch { /* a device the kernel does not have */ }
  })
  try { lstatSync('/dev/fd') } catch { try { symlinkSync('/proc/self/fd', '/dev/fd') } catch { /* read-only /dev */ } }
  const hostname = text('/etc/hostname')?.trim()
  if (hostname) try { writeFileSync('/proc/sys/kernel/hostname', hostname) } catch { /* keep the kernel default */ }

  // Network: NICs found by MAC, renamed, configured; then routes. IPv6 is off on the cmdline.
  const links = existsSync('/sys/class/net') ? readdirSync('/sys/class/net').map(name => ({ name, mac: (text(`/sys/class/net/${name}/address`) ?? '').trim() })) : []
  const { cmds: netCmds, missing } = planGuestNet(net, links, BIN.ip)
  if (missing.length) process.stderr.write(`RunCVM: Warning: no VM NIC for ${missing.join(', ')}\n`)

  const fstab = readFstab()
  const fstabCmds: Cmd[] = fstab.length === 0 ? [] : [
    ...(fstab.some(l => /\sext[234]\s/.test(l)) ? [[BIN.busybox, 'modprobe', 'ext4']] : []),
    [BIN.mount, '-a', '--fstab', statePath('fstab'), '-o', 'X-mount.mkdir'],
    ...(existsSync('/etc/fstab') ? [[BIN.mount, '--bind', statePath('fstab'), '/etc/fstab']] : []),
  ]

  const env = cleanEnv(cfg.env)
  const arg0 = cfg.args[0] ?? ''
  const path = env.find(kv => kv.startsWith('PATH='))?.slice(5)
  const found = resolveOnPath(arg0, path, p => { try { return statSync(p).isFile() } catch { return false } })
  let resolved = found ?? arg0
  try { resolved = realpathSync(resolved) } catch { /* runcvm-init reports a missing command */ }
  const cgroupCmds = planCgroupfs(cgroupMode(s.RUNCVM_CGROUPFS, isSystemd(resolved)), {
    fstab: text('/etc/fstab') ?? '', procCgroups: text('/proc/cgroups'), sysFsCgroupExists: existsSync('/sys/fs/cgroup'),
    mounted: new Set(mounts.map(m => m.dir)),
  }, BIN.busybox)

  // ONE shell for all of it; gratuitous ARP (peers learn the VM's MAC for the container IP) in
  // the background.
  applyCmds([...early, ...netCmds, ...fstabCmds, ...cgroupCmds], { ...quiet, background: planGratuitousArp(net, BIN.busybox) })
  try { writeFileSync(statePath('booted'), '') } catch { /* only the KVM watchdog reads it */ }
  // systemd-detect-virt would see a container and skip units with ConditionVirtualization=!container.
  try { renameSync('/.dockerenv', '/.dockerenv.runcvm') } catch { /* not a Docker image */ }
  mark('vm-setup')
  if (existsSync(BIN.qemuGa) && existsSync('/dev/virtio-ports/org.qemu.guest_agent.0')) {
    spawn(BIN.qemuGa, ['--retry-path', '--statedir', '/.runcvm'], { detached: true, stdio: 'ignore', env: {} }).unref()
  }
  startSshd(net) // dropbear for `docker exec` (lib/vm/sshd.ts): keys + listen in the background

  const consoleDev = `/dev/${vm.console}`
  if (s.RUNCVM_INIT) {
    // --init: busybox init as PID 1; its console entry runs runcvm-vm-start once (upstream).
    const launch = planLaunch(cfg, { runcvmInit: BIN.runcvmInit, exitFile: statePath('exitStatus'), controlPort: vm.controlPort }, 'vm')
    writeFileSync(statePath('vmStart'), buildVmStartScript(launch, { busybox: BIN.busybox, onceFile: statePath('once') }))
    writeFileSync('/etc/inittab', buildInittab({ console: vm.console, vmStart: `${BIN.busybox} sh ${statePath('vmStart')}`, poweroff: BIN.poweroff }))
    rmSync(statePath('once'), { force: true })
    mark('vm-exec-init')
    reopenStdio('/dev/null', [1, 2])
    return execve(BIN.init, [BIN.init], {})
  }
  // The initramfs switches stdio to hvc0 only with console=hvc0 (debug); otherwise Node started
  // us with /dev/null or /dev/console: put the workload on the console device.
  let cur = ''
  try { cur = readlinkSync('/proc/self/fd/1') } catch { /* closed */ }
  if (cur !== consoleDev && existsSync(consoleDev)) reopenStdio(consoleDev)
  const launch = planLaunch(cfg, { runcvmInit: BIN.runcvmInit, exitFile: statePath('exitStatus'), controlPort: vm.controlPort },
    isInitEntrypoint(resolved, arg0) ? 'no-fork' : 'vm')
  mark('vm-exec')
  return execve(launch.file, launch.argv, Object.fromEntries(launch.env.map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
}

try {
  main()
} catch (e) {
  // PID 1 must not just exit (kernel panic → QEMU exits with no explanation): say why, power off.
  process.stderr.write(`\nRunCVM: Error: VM init failed: ${(e as Error)?.stack ?? e}\n`)
  try { writeFileSync(statePath('exitStatus'), '1\n') } catch { /* nothing more to do */ }
  execve(BIN.busybox, [BIN.busybox, 'poweroff', '-f'], {})
}
