// Docker options runc applies to the container that RunCVM carries into the VM: --shm-size (the
// size of the guest's /dev/shm), --ulimit (process.rlimits, set by the VM's init before anything
// starts, so the workload and `docker exec` inherit them) and --sysctl (the net.* keys of
// linux.sysctl, written to the guest's /proc/sys at boot). Pure: the runtime encodes them into
// internal settings at create, the VM init script applies them.
import type { Mount } from '../oci/spec.js'
import { shQuote as sq } from '../cmd.js'

/** A tmpfs size= value as the kernel takes it: bytes, or a number with k/m/g, or a percentage. */
const SIZE_RE = /^[0-9]{1,20}[kKmMgG%]?$/

/** The size= option of the engine's /dev/shm tmpfs ('' when none or not a tmpfs). */
export function specShmSize(mounts: readonly Mount[]): string {
  const m = mounts.find(x => x.destination === '/dev/shm')
  if (!m || m.type !== 'tmpfs') return ''
  const opt = [...(m.options ?? [])].reverse().find(o => o.startsWith('size='))
  const v = opt?.slice(5) ?? ''
  return SIZE_RE.test(v) ? v : ''
}

/** A sysctl key under /proc/sys: dotted or slashed words, no '..', no leading separator. */
const SYSCTL_KEY_RE = /^net[./][A-Za-z0-9_\-.:/@]+$/

/**
 * The spec's net.* sysctls as `key=value` lines (the guest has its own network stack; other
 * namespaced sysctls (kernel.msg*, kernel.shm*, fs.mqueue.*) concern the container's IPC namespace).
 */
export function specNetSysctls(sysctl: Record<string, unknown> | undefined): string {
  return Object.entries(sysctl ?? {})
    .filter(([k, v]) => SYSCTL_KEY_RE.test(k) && !k.split(/[./]/).includes('..') && !k.includes('..') && typeof v === 'string' && !v.includes('\n'))
    .map(([k, v]) => `${k}=${v as string}`)
    .join('\n')
}

/** Shell lines writing `key=value` lines into /proc/sys (dots become slashes, as sysctl(8) does). */
export function sysctlLines(encoded: string): string[] {
  const out: string[] = []
  for (const line of encoded.split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    const key = line.slice(0, eq)
    if (!SYSCTL_KEY_RE.test(key) || key.includes('..')) continue
    // A key with both forms (net/ipv4/conf/eth0.100/...) is taken as slashed when it has a slash.
    const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`
    out.push(`[ ! -e ${sq(path)} ] || printf '%s\\n' ${sq(line.slice(eq + 1))} >${sq(path)}`)
  }
  return out
}

/** OCI rlimit type -> busybox sh `ulimit` flag and the bytes per unit it counts in. */
const RLIMITS: Record<string, [flag: string, unit: number]> = {
  RLIMIT_NOFILE: ['n', 1], RLIMIT_NPROC: ['u', 1], RLIMIT_SIGPENDING: ['i', 1], RLIMIT_MSGQUEUE: ['q', 1],
  RLIMIT_NICE: ['e', 1], RLIMIT_RTPRIO: ['r', 1], RLIMIT_CPU: ['t', 1], RLIMIT_LOCKS: ['x', 1],
  RLIMIT_CORE: ['c', 512], RLIMIT_FSIZE: ['f', 512],
  RLIMIT_DATA: ['d', 1024], RLIMIT_STACK: ['s', 1024], RLIMIT_MEMLOCK: ['l', 1024], RLIMIT_AS: ['v', 1024], RLIMIT_RSS: ['m', 1024],
}
const INFINITY = 18446744073709551615n

interface RLimit { type?: unknown; soft?: unknown; hard?: unknown }
const num = (v: unknown): bigint | undefined =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) ? BigInt(v) : (typeof v === 'string' && /^[0-9]{1,20}$/.test(v) ? BigInt(v) : undefined)

/** process.rlimits as `TYPE=soft:hard` lines (known types with valid numbers only). */
export function specRlimits(rlimits: unknown): string {
  if (!Array.isArray(rlimits)) return ''
  return (rlimits as RLimit[])
    .filter(r => typeof r?.type === 'string' && r.type in RLIMITS && num(r.soft) !== undefined && num(r.hard) !== undefined)
    .map(r => `${r.type as string}=${num(r.soft)}:${num(r.hard)}`)
    .join('\n')
}

/**
 * Shell lines setting the rlimits with busybox sh's `ulimit`: soft, hard, soft again, so that the
 * order works whether the hard limit goes up or down (a soft limit above the hard one is refused).
 */
export function rlimitLines(encoded: string): string[] {
  const out: string[] = []
  for (const line of encoded.split('\n')) {
    const m = /^(RLIMIT_[A-Z]+)=([0-9]{1,20}):([0-9]{1,20})$/.exec(line)
    if (!m || !(m[1] in RLIMITS)) continue
    const [flag, unit] = RLIMITS[m[1]]
    const val = (s: string) => BigInt(s) >= INFINITY ? 'unlimited' : String(BigInt(s) / BigInt(unit))
    const soft = `ulimit -S -${flag} ${val(m[2])}`
    out.push(`${soft}; ulimit -H -${flag} ${val(m[3])}; ${soft}`)
  }
  return out
}
