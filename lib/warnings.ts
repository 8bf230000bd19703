// Where RunCVM's own warnings go, so that without `-t` the container's stdout and stderr carry
// only the workload's bytes (as under runc: `2>file` comparisons and log pipelines see no
// difference). Errors that stop the container are not warnings: they stay on stderr.
//
// A warning (e.g. "/dev/kvm is kvm-pvm ...; running the VM with TCG emulation") is written:
// - to the terminal when the container has one (`-t`): the console is where such a user looks;
// - always, one line, to the host log HOST_WARNINGS_LOG (/run/runcvm/warnings.log), which the
//   runtime bind-mounts at create into the container's own /run (CTR_WARNINGS_LOG). /run is
//   mounted after the /vm rbind, so the VM never sees the file. `runcvm-doctor` shows its tail.
// Docker's events and log metadata cannot be extended by a runtime, so nothing goes there.
//
// Differs from upstream: upstream printed its messages on the container's stderr.
import { closeSync, constants as C, fstatSync, lstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { CTR_WARNINGS_LOG, HOST_WARNINGS_LOG } from './paths.js'

/** The log is rotated (one old copy, `.1`) once it passes this size, so /run never fills up. */
export const WARNINGS_LOG_MAX_BYTES = 1 << 20

/** One log line: time, container id (or '-'), the warning's text on one line. */
export function formatWarningLine(now: Date, id: string | undefined, text: string): string {
  return `${now.toISOString()} ${id || '-'} ${text.replace(/\s*\n\s*/g, ' ').trim()}\n`
}

/** Where a warning is written, from two facts (pure, for tests). */
export function warningTargets(f: { tty: boolean; hostLog: boolean }): ('tty' | 'host-log')[] {
  return [...(f.tty ? ['tty' as const] : []), ...(f.hostLog ? ['host-log' as const] : [])]
}

/**
 * Append `line` to `file` if it is a regular file (never follows a symlink, never blocks on a
 * FIFO). Returns false when it is absent or unusable. One write(2) with O_APPEND: lines from
 * concurrent containers do not interleave.
 */
export function appendLine(file: string, line: string): boolean {
  let fd: number
  try { fd = openSync(file, C.O_WRONLY | C.O_APPEND | C.O_NOFOLLOW | C.O_NONBLOCK) } catch { return false }
  try {
    if (!fstatSync(fd).isFile()) return false
    writeSync(fd, line)
    return true
  } catch {
    return false
  } finally {
    closeSync(fd)
  }
}

/**
 * Container-side edge: report a warning (see the header). `tty`: the container has a terminal
 * (fd 2 is a tty); `id`: the container id the runtime passed (RUNCVM_CONTAINER_ID).
 */
export function warn(text: string, o: { tty: boolean; id?: string; log?: string; now?: Date; stderr?: (s: string) => void }): void {
  for (const t of warningTargets({ tty: o.tty, hostLog: true })) {
    if (t === 'tty') (o.stderr ?? (s => process.stderr.write(s)))(`${text}\n`)
    else appendLine(o.log ?? CTR_WARNINGS_LOG, formatWarningLine(o.now ?? new Date(), o.id, text))
  }
}

/**
 * Host-side edge (the runtime at create): make sure the host log exists and return its path, or
 * undefined when it cannot be used safely (not root, a planted symlink or foreign file, a
 * read-only /run): the container then simply gets no log mount. Rotates a log past the size cap.
 */
export function prepareHostWarningsLog(file = HOST_WARNINGS_LOG, uid = process.getuid?.() ?? 0): string | undefined {
  try {
    const dir = dirname(file)
    try { mkdirSync(dir, { mode: 0o755 }) } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined }
    const d = lstatSync(dir)
    if (!d.isDirectory() || d.uid !== uid || d.mode & 0o022) return undefined
    let st
    try { st = lstatSync(file) } catch { /* created below */ }
    if (st && (!st.isFile() || st.uid !== uid)) return undefined
    if (st && st.size > WARNINGS_LOG_MAX_BYTES) renameSync(file, `${file}.1`)
    // Created exclusively when missing (EEXIST from a concurrent create is fine: checked again).
    try { closeSync(openSync(file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o640)) } catch { /* exists */ }
    const now = lstatSync(file)
    return now.isFile() && now.uid === uid ? file : undefined
  } catch {
    return undefined
  }
}
