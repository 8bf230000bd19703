// Docker options runc applies to the container that RunCVM carries into the VM: --shm-size (the
// size of the guest's /dev/shm), the rlimits (process.rlimits from --ulimit, and for every other
// type the limits runc would have handed down from its parent; set by the VM's init before
// anything starts, so the workload and `docker exec` inherit them) and --sysctl (the keys of
// linux.sysctl a container may set, i.e. the network and IPC namespace ones, written to the
// guest's /proc/sys at boot: the guest kernel is the workload's kernel). Pure: the runtime
// encodes them into internal settings at create, the VM init script applies them.
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

/**
 * A sysctl key under /proc/sys that a container may set (runc's list of namespaced sysctls): net.*
 * (network namespace: the guest has its own stack), the IPC namespace's kernel.msgmax, msgmnb,
 * msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced and fs.mqueue.*. Dotted or slashed words,
 * no '..', no leading separator.
 */
const SYSCTL_KEY_RE = /^(?:net[./][A-Za-z0-9_\-.:/@]+|kernel[./](?:msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs[./]mqueue[./][A-Za-z0-9_]+)$/

/**
 * The spec's namespaced sysctls (net.*, kernel IPC keys, fs.mqueue.*) as `key=value` lines. runc
 * sets them in the container's namespaces; the VM's kernel is the workload's, so they are set there.
 */
export function specGuestSysctls(sysctl: Record<string, unknown> | undefined): string {
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

export interface RLimit { type?: unknown; soft?: unknown; hard?: unknown }
const num = (v: unknown): bigint | undefined =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) ? BigInt(v) : (typeof v === 'string' && /^[0-9]{1,20}$/.test(v) ? BigInt(v) : undefined)

/**
 * process.rlimits as `TYPE=soft:hard` lines (known types with valid numbers only), then, for every
 * type the spec leaves out, the `inherited` one: runc sets only the spec's rlimits and the
 * container keeps its parent's for the rest (Docker without --ulimit or default-ulimits sets none),
 * so the VM's processes get what they would have had under runc instead of the guest kernel's
 * defaults (1024:4096 open files and so on).
 */
export function specRlimits(rlimits: unknown, inherited: readonly RLimit[] = []): string {
  const valid = (list: unknown) => (Array.isArray(list) ? list as RLimit[] : [])
    .filter(r => typeof r?.type === 'string' && r.type in RLIMITS && num(r.soft) !== undefined && num(r.hard) !== undefined)
  const own = valid(rlimits)
  const seen = new Set(own.map(r => r.type))
  return [...own, ...valid(inherited).filter(r => !seen.has(r.type) && (seen.add(r.type), true))]
    .map(r => `${r.type as string}=${num(r.soft)}:${num(r.hard)}`)
    .join('\n')
}

/** /proc/PID/limits row names -> OCI rlimit types (the RLIMIT_* the VM's init can set). */
const PROC_LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
}

/** The text of /proc/PID/limits as OCI rlimits (bytes, `unlimited` as 2^64-1); unknown rows skipped. */
export function parseProcLimits(text: string): { type: string; soft: string; hard: string }[] {
  const out: { type: string; soft: string; hard: string }[] = []
  const val = (v: string) => v === 'unlimited' ? String(INFINITY) : v
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(unlimited|[0-9]{1,20})\s+(unlimited|[0-9]{1,20})(?:\s|$)/.exec(line)
    const type = m && PROC_LIMIT_NAMES[m[1]]
    if (type) out.push({ type, soft: val(m[2]), hard: val(m[3]) })
  }
  return out
}

/** The guest kernel's default fs.nr_open: the highest open-files limit it accepts until raised. */
const GUEST_NR_OPEN = 1048576n
/** The kernel's ceiling for fs.nr_open (INT_MAX rounded down to a multiple of 64). */
const MAX_NR_OPEN = 1073741816n

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
    // An open-files limit above fs.nr_open is refused (hosts with systemd often allow 2^30 - 8):
    // raise the guest's nr_open first, as far as the kernel goes, and cap the limit there.
    if (m[1] === 'RLIMIT_NOFILE') {
      const cap = (s: string) => BigInt(s) > MAX_NR_OPEN ? String(MAX_NR_OPEN) : s
      m[2] = cap(m[2]); m[3] = cap(m[3])
      if (BigInt(m[3]) > GUEST_NR_OPEN) out.push(`read _n </proc/sys/fs/nr_open; [ "$_n" -ge ${m[3]} ] || echo ${m[3]} >/proc/sys/fs/nr_open`)
    }
    const val = (s: string) => BigInt(s) >= INFINITY ? 'unlimited' : String(BigInt(s) / BigInt(unit))
    const soft = `ulimit -S -${flag} ${val(m[2])}`
    out.push(`${soft}; ulimit -H -${flag} ${val(m[3])}; ${soft}`)
  }
  return out
}
