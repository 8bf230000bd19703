// Runtime debug log (RUNCVM_RUNTIME_DEBUG=1 in the container's env), as upstream: one file per
// runtime process, /tmp/runcvm-<pid>.log, plus pretty copies of the JSON before (-1) and after
// (-2) the rewrite: /tmp/config.json-<pid>-{1,2} or /tmp/process.json-<pid>-{1,2}.
// Never writes to stdout/stderr (containerd shows those to the user). Write failures are ignored:
// debugging must not break a container start.
import { appendFileSync, writeFileSync } from 'node:fs'

export interface Logger {
  readonly enabled: boolean
  log(msg: string): void
  /** Save `value` as /tmp/<name>-<pid>-<stage> (name: config.json or process.json). */
  saveJson(name: string, stage: 1 | 2, value: unknown): void
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `YYYY-MM-DD HH:MM:SS.uuuuuu` in local time, the format upstream's `date` call printed. */
export function timestamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`
}

export const NO_LOG: Logger = { enabled: false, log() {}, saveJson() {} }

export function createLogger(enabled: boolean, pid = process.pid, dir = '/tmp'): Logger {
  if (!enabled) return NO_LOG
  const file = `${dir}/runcvm-${pid}.log`
  const safe = (f: () => void) => { try { f() } catch { /* never fail the runtime over a log */ } }
  return {
    enabled,
    log: msg => safe(() => appendFileSync(file, `${timestamp(new Date())}: ${pid}: ${msg}\n`)),
    saveJson: (name, stage, value) =>
      safe(() => writeFileSync(`${dir}/${name}-${pid}-${stage}`, JSON.stringify(value, null, 2) + '\n')),
  }
}
