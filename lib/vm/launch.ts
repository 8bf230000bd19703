// How the VM's init hands the VM over to the workload: pure decisions, no I/O. The init is the
// busybox sh script /.runcvm/vm-init.sh (lib/vm/init-script.ts; no Node process in the VM, where
// one costs 0.3-1.1 s warm and seconds cold under TCG); it ends by exec'ing the native runcvm-init:
//  - normal entrypoint → `runcvm-init --vm`: the VM's supervisor of the workload, which it runs
//    with the requested ids/cwd, writes its exit status to /.runcvm/exit-status and powers off;
//  - an init (systemd, /sbin/init, busybox init) → `runcvm-init --no-fork`: the workload itself
//    becomes PID 1, as it expects;
//  - `--init` (RUNCVM_INIT=1) → busybox init with an inittab whose console entry runs
//    /.runcvm/vm-start.sh once (upstream's once-only rule), the workload under `runcvm-init --vm`.
import type { ConfigState, VmState } from '../state.js'
import { BIN, statePath } from '../paths.js'
import { shQuote } from '../cmd.js'
import { withoutRunCvmVars } from '../workload-env.js'

/**
 * True when the entrypoint is an init system that must itself be PID 1: `resolved` is args[0]
 * found on PATH with symlinks followed (upstream follows one symlink and tests `/systemd$`),
 * `arg0` the name it was called by (busybox init is busybox called as init).
 */
export function isInitEntrypoint(resolved: string, arg0: string): boolean {
  if (isSystemd(resolved)) return true
  if (/^\/(usr\/)?s?bin\/init$/.test(resolved) || resolved === '/init') return true
  return /(^|\/)busybox$/.test(resolved) && /(^|\/)init$/.test(arg0)
}

export const isSystemd = (resolved: string): boolean => /(^|\/)systemd$/.test(resolved)

/** glibc's SIGRTMIN (the kernel's 32 plus the two NPTL keeps), which systemd counts from. */
const GLIBC_SIGRTMIN = 34
const SIGUSR2 = 12

/**
 * The signal that makes an init entrypoint (PID 1 in the VM) power the machine off cleanly, sent
 * when `docker stop` asks for a stop (runcvm-init --stop-signal, listening on the control port):
 * systemd powers off on SIGRTMIN+4 (its SIGRTMIN+3, the usual STOPSIGNAL of systemd images, is
 * `halt`, which leaves a VM halted but running), busybox init on SIGUSR2. Any other init is left
 * to ACPI's power button (system_powerdown), as a real VM's would be.
 */
export function initStopSignal(resolved: string, arg0: string): number | undefined {
  if (isSystemd(resolved)) return GLIBC_SIGRTMIN + 4
  if (/(^|\/)busybox$/.test(resolved) && /(^|\/)init$/.test(arg0)) return SIGUSR2
  return undefined
}

export interface Launch { file: string; argv: string[]; env: string[] }

export interface LaunchPaths {
  runcvmInit: string; exitFile: string; controlPort: string; verbose?: boolean
  /** Non-tty run: virtio-serial port names for the workload's fds (VmState.stdio). */
  stdio?: { stdin?: string; stdout: string; stderr: string }
  /** `-t`: the client's window size at start (VmState.ttySize). */
  ttySize?: { rows: number; cols: number }
  /** `-t`: the port later window sizes arrive on (VmState.ttyPort); `vm` mode only. */
  ttyPort?: string
}

/** runcvm-init's paths, plus the stdio ports (non-tty) or the window size (-t) ctr-qemu chose. */
export const launchPaths = (vm: VmState): LaunchPaths => ({
  runcvmInit: BIN.runcvmInit, exitFile: statePath('exitStatus'), controlPort: vm.controlPort,
  ...(vm.stdio ? { stdio: vm.stdio } : {}), ...(vm.ttySize ? { ttySize: vm.ttySize } : {}),
  ...(vm.ttyPort ? { ttyPort: vm.ttyPort } : {}),
})

/**
 * argv for runcvm-init that applies ids/cwd and runs (or, noFork, execs) the workload. `stopSignal`
 * (no-fork only): a child of runcvm-init stays behind to turn a "stop" on the control port into
 * that signal to the init (initStopSignal).
 */
export function planLaunch(c: ConfigState, p: LaunchPaths, mode: 'vm' | 'no-fork', stopSignal?: number): Launch {
  // Deduplicated: docker repeats a gid given by --group-add that /etc/group already lists for the
  // user ([1000, 2000, 2000]); runc sets it once, setgroups(2) would keep both.
  const groups = [...new Set(c.groups)]
  const ids = ['--uid', String(c.uid), '--gid', String(c.gid), ...(groups.length ? ['--groups', groups.join(',')] : []), '--cwd', c.cwd]
  const io = p.stdio
    // No stdin port (no `-i`): /dev/null, as runc gives, not the console.
    ? ['--stdin', p.stdio.stdin ? `port:${p.stdio.stdin}` : '/dev/null', '--stdout', `port:${p.stdio.stdout}`, '--stderr', `port:${p.stdio.stderr}`]
    : p.ttySize ? ['--tty-size', `${p.ttySize.rows},${p.ttySize.cols}`] : []
  const head = mode === 'vm'
    ? ['--vm', '--exit-file', p.exitFile, '--control-port', p.controlPort, ...(p.ttyPort ? ['--tty-port', p.ttyPort] : [])]
    : ['--no-fork', ...(stopSignal ? ['--control-port', p.controlPort, '--stop-signal', String(stopSignal)] : [])]
  return {
    file: p.runcvmInit,
    argv: [p.runcvmInit, ...(p.verbose ? ['-v'] : []), ...head, ...ids, ...io, '--', ...c.args],
    env: withoutRunCvmVars(c.env),
  }
}

/** busybox init's inittab for `--init` mode (upstream runcvm-vm-init). */
export function buildInittab(o: { console: string; vmStart: string; qemuGa?: string; poweroff: string; dropbear?: string }): string {
  return [
    `${o.console}::respawn:-${o.vmStart}`,
    ...(o.qemuGa ? [`null::respawn:${o.qemuGa}`] : []),
    ...(o.dropbear ? [`null::respawn:${o.dropbear}`] : []),
    `null::ctrlaltdel:${o.poweroff}`,
    `null::restart:${o.poweroff}`,
    `null::shutdown:${o.poweroff}`,
  ].join('\n') + '\n'
}

/** args[0] as execvp would find it on PATH (names with a '/' are taken as they are). */
export function resolveOnPath(arg0: string, path: string | undefined, isFile: (p: string) => boolean): string | undefined {
  if (arg0.includes('/')) return arg0
  for (const dir of (path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const cand = `${dir || '.'}/${arg0}`
    if (isFile(cand)) return cand
  }
  return undefined
}

/**
 * `--init` mode's console job as a busybox sh script (no Node in the VM after vm-init): start the
 * workload once under `runcvm-init --vm` with exactly its env (`env -i`), then power off; a
 * respawn after that (upstream once-only rule) powers off at once. Every word is shell-quoted,
 * so arguments and values may hold any bytes but NUL.
 */
export function buildVmStartScript(l: Launch, o: { busybox: string; onceFile: string }): string {
  const bb = shQuote(o.busybox)
  return [
    `[ -e ${shQuote(o.onceFile)} ] && exec ${bb} poweroff -f`,
    `: > ${shQuote(o.onceFile)}`,
    `${bb} env -i ${[...l.env, l.file, ...l.argv.slice(1)].map(shQuote).join(' ')}`,
    `exec ${bb} poweroff -f`,
  ].join('\n') + '\n'
}
