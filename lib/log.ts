// Runtime debug log (RUNCVM_RUNTIME_DEBUG=1 in the container's env): one file per runtime process,
// runcvm-<pid>.log, plus pretty copies of the JSON before (-1) and after (-2) the rewrite:
// config.json-<pid>-{1,2} or process.json-<pid>-{1,2}.
// Differs from upstream (predictable /tmp files, 0644, following symlinks, with every env value):
// - the files live in DEBUG_LOG_DIR, a directory only root can enter (created 0700; used only when
//   it is a real directory of ours with no group/other access, else nothing is logged), each file
//   created with O_EXCL|O_NOFOLLOW, mode 0600;
// - env values are redacted in the saved JSON (names kept, RunCVM's RUNCVM_* settings shown; the
//   workload env data chunks redacted too): a log never holds the workload's secrets.
// Never writes to stdout/stderr (containerd shows those to the user). Write failures are ignored:
// debugging must not break a container start.
import { closeSync, constants as C, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { WORKLOAD_ENV_PREFIX } from './workload-env.js'

/** Root-only directory for the runtime's debug logs. */
export const DEBUG_LOG_DIR = '/run/runcvm/debug'

export interface Logger {
  readonly enabled: boolean
  log(msg: string): void
  /** Save `value` (env values redacted) as <dir>/<name>-<pid>-<stage> (name: config.json or process.json). */
  saveJson(name: string, stage: 1 | 2, value: unknown): void
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `YYYY-MM-DD HH:MM:SS.uuuuuu` in local time, the format upstream's `date` call printed. */
export function timestamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`
}

export const NO_LOG: Logger = { enabled: false, log() {}, saveJson() {} }

/** `NAME=value` with the value replaced by its length, except RunCVM's own settings. */
export function redactEnvEntry(kv: string): string {
  const i = kv.indexOf('=')
  const name = i < 0 ? kv : kv.slice(0, i)
  if (name.startsWith('RUNCVM_') && !name.startsWith(WORKLOAD_ENV_PREFIX)) return kv
  return i < 0 ? kv : `${name}=<redacted ${kv.length - i - 1} chars>`
}

/** A copy of a config.json / process.json with every process env value redacted. */
export function redactSpec(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value
  const out = structuredClone(value) as { env?: unknown; process?: { env?: unknown } }
  for (const holder of [out, out.process]) {
    if (holder && Array.isArray(holder.env)) holder.env = holder.env.map(e => typeof e === 'string' ? redactEnvEntry(e) : e)
  }
  return out
}

/** Whether `dir` is (or could be made) a directory only we can enter. */
export function privateLogDir(dir: string): boolean {
  try { mkdirSync(dir, { recursive: true, mode: 0o700 }) } catch { /* checked below */ }
  try {
    const st = lstatSync(dir)
    return st.isDirectory() && st.uid === (process.geteuid?.() ?? 0) && (st.mode & 0o077) === 0
  } catch { return false }
}

/** Create `file` exclusively (never through a planted symlink or someone's file), 0600, and write `text`. */
function writeNew(file: string, text: string): void {
  const fd = openSync(file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)
  try { writeSync(fd, text) } finally { closeSync(fd) }
}

export function createLogger(enabled: boolean, pid = process.pid, dir = DEBUG_LOG_DIR): Logger {
  if (!enabled || !privateLogDir(dir)) return NO_LOG
  const safe = (f: () => void) => { try { f() } catch { /* never fail the runtime over a log */ } }
  let fd: number | undefined
  safe(() => { fd = openSync(`${dir}/runcvm-${pid}.log`, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_APPEND, 0o600) })
  return {
    enabled,
    log: msg => safe(() => { if (fd !== undefined) writeSync(fd, `${timestamp(new Date())}: ${pid}: ${msg}\n`) }),
    saveJson: (name, stage, value) =>
      safe(() => writeNew(`${dir}/${name}-${pid}-${stage}`, JSON.stringify(redactSpec(value), null, 2) + '\n')),
  }
}
