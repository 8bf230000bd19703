// runc's --log file. When a runtime fails, containerd's shim shows the user the last error
// logged there ("OCI runtime create failed: <msg>"); a runtime that only writes to stderr leaves
// Docker saying "unable to retrieve OCI runtime error (open .../log.json: no such file ...)".
// So on failure the runtime appends its message in runc's own format (logrus: JSON or text).
import { RunCvmError } from '../errors.js'

/** The one-line message containerd will show: `RunCVM: Error: <message>[ (<hint>)]`. */
export function runcLogMessage(err: unknown): string {
  const base = err instanceof RunCvmError
    ? err.message + (err.hint ? ` (${err.hint})` : '')
    : `internal error: ${err instanceof Error ? err.message : String(err)}`
  return `RunCVM: Error: ${base}`.replace(/\s*\n\s*/g, ' ')
}

/** One log line as runc (logrus) writes it, for `--log-format json` (Docker's) or `text`. */
export function formatRuncLogEntry(msg: string, format: string | undefined, time: Date): string {
  const ts = time.toISOString().replace(/\.\d+Z$/, 'Z')
  if (format === 'json') return JSON.stringify({ level: 'error', msg, time: ts }) + '\n'
  return `time="${ts}" level=error msg=${JSON.stringify(msg)}\n`
}
