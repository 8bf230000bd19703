// The /.runcvm state files: one type and one reader/writer each (file names in lib/paths.ts).
// /.runcvm is a 1 MiB tmpfs in the container that the VM sees through virtiofs, so every file here
// is written by a container role and read by a VM role (or the other way round for exit status).
// JSON with `v: 1`, written atomically (temp + rename). Store only what later roles need.
// The VM's init is a busybox sh script: it writes its state files with the lines STATE_SH gives,
// and runcvm-init (C) writes exit-status the same way (temp + rename), to the path it is given.
//
// Differs from upstream: upstream keeps a bash `export` dump (config), newline-split argv
// (entrypoint), six positional fields per NIC (network/devices/<if>) and more loose files.
import { closeSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { shQuote as sq } from './cmd.js'
import { StateError } from './errors.js'
import { appendSafe, createExclusive, writeExclusive, writeFileAtomic, writeJsonAtomic } from './fsx.js'
import { STATE_DIR, STATE_FILES, statePath } from './paths.js'

/** What ctr-entrypoint saved about the workload (the container process before RunCVM took over). */
export interface ConfigState {
  v: 1
  /** Original entrypoint + cmd, argv-exact (any bytes JSON can carry: newlines, quotes, UTF-8). */
  args: string[]
  /** Workload env (`NAME=value`), RUNCVM_* removed, HOME resolved per moby#2968. */
  env: string[]
  /** RUNCVM_* variables as given to the container, for roles that parse settings. */
  settingsEnv: Record<string, string>
  cwd: string
  uid: number
  gid: number
  groups: number[]
}

export interface NetIfState {
  name: string
  /** The container interface's MAC (the VM NIC gets 52:54:00 + its low 3 bytes). */
  mac: string
  mtu: number
  ip?: string
  prefix?: number
  /** Set on the default-route interface only. */
  gateway?: string
  /** Docker's global IPv6 addresses on this interface (`--ipv6` networks), link-local ones excluded. */
  ip6?: { ip: string; prefix: number }[]
  /** Set on the IPv6 default-route interface only. */
  gateway6?: string
}

export interface RouteState { dst: string; gateway: string; dev: string; prefsrc?: string }

/** A NAT port redirect to one of the VM's addresses (Swarm's ingress rules; lib/net/ingress.ts). */
export interface PortRedirect {
  /** The VM's own IPv4 address the rule matches (-d <ip>/32). */
  ip: string
  proto: 'tcp' | 'udp'
  /** Published port (--dport). */
  dport: number
  /** Target port (--to-ports). */
  toPort: number
}

export interface NetworkState {
  v: 1
  interfaces: NetIfState[]
  /** Non-link-scope, non-default routes (IPv4, then IPv6) to restore in the VM. */
  routes: RouteState[]
  /** Port redirects Docker set up in the container's namespace for the VM's addresses. */
  redirects?: PortRedirect[]
}

/** What ctr-qemu decided that vm-init needs. */
export interface VmState {
  v: 1
  /** Console device in the VM: hvc0 (headless), ttyS0 (serial), tty0 (vnc). */
  console: 'hvc0' | 'ttyS0' | 'tty0'
  /** virtio-serial port name for stop requests (runcvm-init --control-port). */
  controlPort: string
  /** Non-tty run: virtio-serial port names for the workload's fds (stdin only with `-i`). */
  stdio?: { stdin?: string; stdout: string; stderr: string }
  /** `-t`: the client's window size when the container started (applied to the console). */
  ttySize?: { rows: number; cols: number }
  /** `-t`: virtio-serial port carrying the client's later window sizes (runcvm-init --tty-port). */
  ttyPort?: string
  /** virtiofs tag serving the package read-only with cache=always, if any (mounted over RUNCVM_GUEST). */
  pkgTag?: string
}

const p = (dir: string, f: string) => join(dir, f)

function readState<T extends { v: number }>(dir: string, file: string): T {
  const path = p(dir, file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new StateError(path, `cannot read ${path}: ${(e as Error).message}`, { cause: e })
  }
  let v: T
  try {
    v = JSON.parse(text) as T
  } catch (e) {
    throw new StateError(path, `malformed state file ${path}: ${(e as Error).message}`, { cause: e })
  }
  if (v?.v !== 1) throw new StateError(path, `state file ${path} has unsupported version ${String(v?.v)}`)
  return v
}

export const writeConfig = (s: ConfigState, dir = STATE_DIR): void => writeJsonAtomic(p(dir, STATE_FILES.config), s)
export const readConfig = (dir = STATE_DIR): ConfigState => readState<ConfigState>(dir, STATE_FILES.config)
export const writeNetwork = (s: NetworkState, dir = STATE_DIR): void => writeJsonAtomic(p(dir, STATE_FILES.network), s)
export const readNetwork = (dir = STATE_DIR): NetworkState => readState<NetworkState>(dir, STATE_FILES.network)
export const writeVm = (s: VmState, dir = STATE_DIR): void => writeJsonAtomic(p(dir, STATE_FILES.vm), s)
export const readVm = (dir = STATE_DIR): VmState => readState<VmState>(dir, STATE_FILES.vm)

export function writeFstab(lines: readonly string[], dir = STATE_DIR): void {
  writeFileAtomic(p(dir, STATE_FILES.fstab), lines.map(l => l + '\n').join(''))
}
export function readFstab(dir = STATE_DIR): string[] {
  try {
    return readFileSync(p(dir, STATE_FILES.fstab), 'utf8').split('\n').filter(l => l.trim() !== '')
  } catch {
    return []
  }
}

/** First line of a small text file as an integer, or undefined if absent/unparsable. */
function readIntFile(path: string): number | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  const m = /^\s*(-?\d+)/.exec(text)
  return m ? Number(m[1]) : undefined
}

export const readAppExitCode = (dir = STATE_DIR): number | undefined => readIntFile(p(dir, STATE_FILES.exitcode))
export const readExitStatus = (dir = STATE_DIR): number | undefined => readIntFile(p(dir, STATE_FILES.exitStatus))

/**
 * Append `<phase> <seconds>` to timing.log (best effort: timing must never break a boot). Never
 * through a symlink, FIFO or hard link planted at the name (lib/fsx.ts appendSafe).
 */
export function appendTiming(phase: string, seconds: number, dir = STATE_DIR): void {
  try {
    appendSafe(p(dir, STATE_FILES.timing), `${phase} ${seconds.toFixed(3)}\n`)
  } catch { /* best effort */ }
}

/**
 * The workload's exit status, atomically: ctr-exit and ctr-shutdown in the container may read it
 * at any moment. Writers: runcvm-init --vm (C, the workload's own status), the VM's init when the
 * workload cannot start (STATE_SH.exitStatus), ctr-shutdown (137 when the guest did not stop), the
 * KVM watchdog and the Node init fallback (1).
 */
export const writeExitStatus = (code: number, dir = STATE_DIR): void => writeFileAtomic(statePath('exitStatus', dir), `${code}\n`)

/** The VM's init script (kernel init=): executable. */
export function writeVmInit(script: string, dir = STATE_DIR): void {
  // The mode is set on the temporary file before the rename (a chmod by name would follow a link).
  writeFileAtomic(statePath('vmInit', dir), script, 0o755)
}

/** Forget an earlier boot's marker before QEMU starts (the KVM watchdog waits for a new one). */
export const clearBooted = (dir = STATE_DIR): void => rmSync(statePath('booted', dir), { force: true })
/** The VM's init has run (one of the boot watchdog's signs of life). */
export const isBooted = (dir = STATE_DIR): boolean => existsSync(statePath('booted', dir))

/** --init mode: the workload runs once (upstream /.runcvm/once); true if it already ran. */
export function markOnce(dir = STATE_DIR): boolean {
  // One exclusive create: anything already at the name (an earlier run's marker, or whatever the
  // VM planted) means "already ran"; nothing there is followed or written.
  try {
    closeSync(createExclusive(statePath('once', dir)))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return true
    throw e
  }
  return false
}

/**
 * A `docker exec` request too large for dropbear's command line (lib/exec/codec.ts), for
 * runcvm-init --request-file to read and remove. Exclusive and root-only: names are unique.
 */
export const writeExecRequest = (path: string, content: Uint8Array): void => writeExclusive(path, content)

/** The same writes as busybox sh lines, for the VM's init script (the state dir is the same path in the VM). */
export const STATE_SH = {
  /** As writeExitStatus: temp + rename (`$$` keeps concurrent writers apart). */
  exitStatus: (code: number, dir = STATE_DIR): string => {
    const file = statePath('exitStatus', dir), tmp = `${dir}/.${STATE_FILES.exitStatus}.$$.tmp`
    return `echo ${code} >"${tmp}" && mv -f "${tmp}" ${sq(file)}`
  },
  /** vm-init is running (empty file). */
  booted: (dir = STATE_DIR): string => `printf '' >${sq(statePath('booted', dir))}`,
  /** As appendTiming, with the guest's uptime (the VM's clock): `vm:<phase> <uptime>`. */
  timing: (phase: string, dir = STATE_DIR): string => `read -r u _ </proc/uptime; echo "vm:${phase} $u" >>${sq(statePath('timing', dir))}`,
} as const
