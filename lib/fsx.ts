// The only JSON file I/O, and every write RunCVM makes to a file it did not create itself.
//
// Host-side rules (the runtime is root on the host, and containerd may put `runc exec`'s
// process.json in /tmp when it has no XDG_RUNTIME_DIR, where any local user can plant a symlink, a
// FIFO or their own file at any name):
// - every file is opened with O_NOFOLLOW and checked with fstat on that same descriptor: a regular
//   file, one link, owned by us; anything else is refused untouched;
// - reads are bounded and never block (O_NONBLOCK: a FIFO cannot hold the runtime);
// - a new file is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a random name, and only
//   then given its final mode and renamed over the target (rename replaces a planted symlink itself,
//   never its target);
// - a file in a directory others may write (sticky /tmp) is rewritten in place through the
//   descriptor it was read from, never through a temporary name there.
import { randomBytes } from 'node:crypto'
import {
  closeSync, constants as C, fchmodSync, lstatSync, mkdirSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, statSync,
  unlinkSync, writeSync, type Stats,
} from 'node:fs'
import { dirname, basename, join } from 'node:path'
import { SpecError } from './errors.js'

/** JSON files RunCVM reads (config.json, process.json, state) are far below this. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024

const euid = (): number => process.geteuid?.() ?? 0

/**
 * Why `st` is not a file we may read or rewrite, or undefined when it is: a regular file with one
 * link, owned by `owner` (any owner when `owner` is undefined), and with `noSharedWrite` not
 * writable by group or others.
 */
export function unsafeFileReason(st: Stats, owner: number | undefined = euid(), o: { noSharedWrite?: boolean } = {}): string | undefined {
  if (!st.isFile()) return 'not a regular file'
  if (st.nlink !== 1) return 'has more than one link'
  if (owner !== undefined && st.uid !== owner) return `owned by uid ${st.uid}, not ${owner}`
  if (o.noSharedWrite && (st.mode & 0o022) !== 0) return 'group- or world-writable'
  return undefined
}

/** Read all of `fd` (at most `max` bytes; more is an error). */
export function readFdBounded(fd: number, max: number, what: string): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const buf = Buffer.alloc(Math.min(65536, max + 1 - total))
    const n = readSync(fd, buf, 0, buf.length, null)
    if (n === 0) break
    chunks.push(buf.subarray(0, n))
    total += n
    if (total > max) throw new SpecError(`${what} is larger than ${max} bytes`)
  }
  return Buffer.concat(chunks)
}

/** Open `file` for reading (and with `write`, writing) safely; the caller closes the fd. */
function openChecked(file: string, write: boolean): number {
  let fd: number
  try {
    fd = openSync(file, (write ? C.O_RDWR : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new SpecError(`cannot read ${file}: ${code === 'ELOOP' ? 'it is a symbolic link' : (e as Error).message}`, { cause: e })
  }
  const why = unsafeFileReason(fstatSync(fd))
  if (why) { closeSync(fd); throw new SpecError(`refusing ${file}: ${why}`) }
  return fd
}

function parseJson<T>(file: string, buf: Buffer): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T
  } catch (e) {
    // Never the parser's message: it quotes the file's content.
    throw new SpecError(`malformed JSON in ${file}`, { cause: e })
  }
}

/** A file we may trust (see unsafeFileReason), read whole; at most `max` bytes. */
export function readFileChecked(file: string, max: number): Buffer {
  const fd = openChecked(file, false)
  try {
    return readFdBounded(fd, max, file)
  } finally {
    closeSync(fd)
  }
}

/**
 * Make `dir` (its parent must exist) a directory only we can use (0700): created if missing; an
 * existing one must be a real directory (not a symlink) of ours that nobody else can write into,
 * else an error and nothing is written.
 */
export function ensurePrivateDir(dir: string, owner = euid()): void {
  try { mkdirSync(dir, 0o700) } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e }
  const st = lstatSync(dir)
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== owner || (st.mode & 0o077) !== 0) {
    throw new SpecError(`refusing ${dir}: not a private directory (0700, uid ${owner}, no symbolic link)`)
  }
}

export function readJson<T>(file: string): T {
  const fd = openChecked(file, false)
  try {
    return parseJson<T>(file, readFdBounded(fd, MAX_JSON_BYTES, file))
  } finally {
    closeSync(fd)
  }
}

/** A directory only its owner (root, or the user we run as) can change. */
export function isPrivateDir(dir: string, owner = euid()): boolean {
  try {
    const st = statSync(dir)
    return st.isDirectory() && st.uid === owner && (st.mode & 0o022) === 0
  } catch { return false }
}

export const tempName = (file: string): string => join(dirname(file), `.${basename(file)}.${randomBytes(12).toString('hex')}.tmp`)

/**
 * Write `data` to `file` so that readers see either the old or the new content, never a partial
 * file: a new temporary file in the same directory (O_EXCL|O_NOFOLLOW, 0600, a random name),
 * flushed, given `mode`, then renamed over the target. On any failure the target is untouched.
 * `tmp` is for tests only (to plant things at the name).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, tmp = tempName(file)): void {
  let fd: number | undefined
  let created = false
  try {
    fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)
    created = true
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fchmodSync(fd, mode)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, file)
  } catch (e) {
    if (fd !== undefined) closeSync(fd)
    if (created) try { unlinkSync(tmp) } catch { /* nothing to clean */ }
    throw e
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode)
}

/**
 * Read the JSON file `file`, rewrite it with `f`'s result. The file must be a regular file of ours
 * (no symlink, FIFO, hard link or foreign file); its mode is kept. In a private directory it is
 * replaced atomically (writeFileAtomic); elsewhere (process.json in /tmp) it is rewritten in place
 * through the descriptor it was read from. When `f` throws, nothing is written.
 */
export function rewriteJsonFile<T, U>(file: string, f: (value: T) => U): U {
  const priv = isPrivateDir(dirname(file))
  const fd = openChecked(file, !priv)
  try {
    const st = fstatSync(fd)
    const out = f(parseJson<T>(file, readFdBounded(fd, MAX_JSON_BYTES, file)))
    const text = Buffer.from(JSON.stringify(out, null, 2) + '\n')
    if (priv) {
      writeFileAtomic(file, text, st.mode & 0o7777)
    } else {
      ftruncateSync(fd, 0)
      let off = 0
      while (off < text.length) off += writeSync(fd, text, off, text.length - off, off)
      fsyncSync(fd)
    }
    return out
  } finally {
    closeSync(fd)
  }
}

/**
 * Write `data` into `file` in place, never through a symlink or into a FIFO/device: an existing
 * regular file is truncated and written through an O_NOFOLLOW|O_NONBLOCK descriptor (so a file
 * that is also a mount point elsewhere, where rename(2) fails with EBUSY, still works); a symlink
 * there is removed and a new file created with O_EXCL; anything else is refused.
 */
export function writeFileInPlace(file: string, data: string | Uint8Array, mode = 0o644): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)
  let fd: number
  try {
    fd = openSync(file, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ELOOP' && code !== 'ENOENT') throw e
    if (code === 'ELOOP') unlinkSync(file)
    fd = openSync(file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode)
  }
  try {
    if (!fstatSync(fd).isFile()) throw new SpecError(`refusing ${file}: not a regular file`)
    ftruncateSync(fd, 0)
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, off)
  } finally {
    closeSync(fd)
  }
}

// --- Container-side files under /.runcvm and the container's /run ---
// /.runcvm is shared with the VM, whose root may plant symlinks, FIFOs or hard links at any name
// there; the container-side roles run as root next to QEMU. Every file they write there is
// created here: O_CREAT|O_EXCL|O_NOFOLLOW|O_NONBLOCK, mode 0600 unless asked otherwise, so nothing
// planted at the name is ever followed, truncated or written through.
// Differs from upstream: its scripts wrote these files by name with shell redirections.

const CREATE_EXCL = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK

/** Create `file` exclusively (fails with EEXIST when anything is at the name); the caller closes the fd. */
export function createExclusive(file: string, mode = 0o600, append = false): number {
  return openSync(file, CREATE_EXCL | (append ? C.O_APPEND : 0), mode)
}

/** Create `file` exclusively with `data` (EEXIST when anything is already at the name). */
export function writeExclusive(file: string, data: string | Uint8Array, mode = 0o600): void {
  const fd = createExclusive(file, mode)
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
  } finally {
    closeSync(fd)
  }
}

/**
 * An append descriptor for a log or record file: a new file is created exclusively (0600); an
 * existing one is used only if it is a regular file with one link (opened O_NOFOLLOW|O_NONBLOCK,
 * checked on the descriptor). A symlink, FIFO, device, directory or hard link there is refused
 * with a SpecError, untouched. The caller closes the fd.
 */
export function openAppendSafe(file: string, mode = 0o600): number {
  let fd: number
  try {
    fd = openSync(file, C.O_WRONLY | C.O_APPEND | C.O_NOFOLLOW | C.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ELOOP') throw new SpecError(`refusing ${file}: it is a symbolic link`, { cause: e })
    if (code !== 'ENOENT') throw e
    return createExclusive(file, mode, true)
  }
  // Owner not checked: callers append inside directories only root can write (/.runcvm).
  const why = unsafeFileReason(fstatSync(fd), undefined)
  if (why) { closeSync(fd); throw new SpecError(`refusing ${file}: ${why}`) }
  return fd
}

/** Append `data` to `file` through openAppendSafe. */
export function appendSafe(file: string, data: string | Uint8Array, mode = 0o600): void {
  const fd = openAppendSafe(file, mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
  } finally {
    closeSync(fd)
  }
}
