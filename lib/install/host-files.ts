// The installer's host-file edges: every file it writes outside its own fresh staging tree goes
// through here, so that nothing planted at a name it uses can redirect, block or leak a write.
//
// The installer runs as root and edits files other programs own by convention (daemon.json,
// sysctl files). Rules, each enforced below and tested with planted files:
// - A name is edited only when what is there is a regular file owned by us (the installer's uid:
//   root), in a directory only we can write. A symlink is followed to its final target, which must
//   pass the same test (a symlinked daemon.json is updated through its target, the link stays).
//   Anything else (a FIFO, a device, a directory, a dangling link, a file owned by another user, a
//   directory others can write) is refused with a RefusedError naming the path and what was found.
// - Reads never block and never follow the last component: O_NOFOLLOW|O_NONBLOCK, then fstat
//   must show a regular file, and the size is bounded.
// - New files are created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) under an unpredictable name in
//   the target's directory, mode 0600 while written, then given the target's mode and renamed
//   over it: readers see the old or the new file, never a half-written one, and a name planted in
//   advance makes the creation fail instead of being followed.
import { randomBytes } from 'node:crypto'
import {
  closeSync, constants as C, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readlinkSync, readSync, realpathSync,
  renameSync, statSync, unlinkSync, writeSync, type Stats,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { RunCvmError } from '../errors.js'

/** The installer would not touch a path; says what it found there and what it did instead. */
export class RefusedError extends RunCvmError {
  readonly path: string
  constructor(path: string, why: string) {
    super(`refusing to write ${path}: ${why}; nothing was changed there`)
    this.path = path
  }
}

/** Who may own what the installer edits (the installer's own ids: root in production). */
export interface Owner { uid: number; gid: number }
export const currentOwner = (): Owner => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 })

/** Upper bound for any config file the installer reads (daemon.json, sysctl files). */
export const MAX_READ_BYTES = 1 << 20

/** What an lstat shows, in words for messages. */
export function describeKind(st: Stats): string {
  if (st.isFile()) return 'a regular file'
  if (st.isDirectory()) return 'a directory'
  if (st.isSymbolicLink()) return 'a symlink'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

const lstatOrUndefined = (p: string): Stats | undefined => {
  try { return lstatSync(p) } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; throw e }
}

/**
 * `dir` (resolved) must be a directory that only `owner` can change: owned by owner.uid (or root)
 * without group/other write; each ancestor owned by root or owner.uid and either not group/other
 * writable or sticky (/tmp), so nobody else can swap a name in it.
 */
export function checkTrustedDir(dir: string, owner: Owner, forPath = dir): void {
  let real: string
  try { real = realpathSync(dir) } catch (e) { throw new RefusedError(forPath, `its directory ${dir} cannot be resolved (${(e as Error).message})`) }
  const trustedUid = (uid: number) => uid === owner.uid || uid === 0
  const st = statSync(real)
  if (!st.isDirectory()) throw new RefusedError(forPath, `${real} is not a directory`)
  if (!trustedUid(st.uid)) throw new RefusedError(forPath, `its directory ${real} is owned by uid ${st.uid}`)
  if (st.mode & 0o022) throw new RefusedError(forPath, `its directory ${real} is writable by group or others (mode ${octal(st.mode)})`)
  for (let d = dirname(real); ; d = dirname(d)) {
    const a = statSync(d)
    if (!trustedUid(a.uid)) throw new RefusedError(forPath, `directory ${d} above it is owned by uid ${a.uid}`)
    if (a.mode & 0o022 && !(a.mode & 0o1000)) throw new RefusedError(forPath, `directory ${d} above it is writable by group or others without the sticky bit (mode ${octal(a.mode)})`)
    if (d === '/') break
  }
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0')

/** A name the installer may edit, resolved: the file that really changes, its mode and owner. */
export interface EditTarget {
  /** The name asked for (e.g. /etc/docker/daemon.json). */
  name: string
  /** The file that is read and replaced: `name`, or the final target when `name` is a symlink. */
  path: string
  /** undefined: nothing there yet (only for a plain name, never through a symlink). */
  stat?: Stats
  /** When `name` is a symlink: its text, for messages. */
  via?: string
}

/**
 * Resolve `name` for editing under the rules in the header: a missing name (to be created), a
 * regular file owned by `owner`, or a symlink (itself ours) whose final target is one. Throws
 * RefusedError for anything else.
 */
export function resolveEditable(name: string, owner: Owner): EditTarget {
  checkTrustedDir(dirname(name), owner, name)
  let st = lstatOrUndefined(name)
  if (!st) return { name, path: name }
  // Follow a symlink hop by hop: every link on the way must be ours (or root's) and sit in a
  // trusted directory, so nobody else's link can redirect the write.
  let path = name
  for (let hops = 0; st.isSymbolicLink(); hops++) {
    if (hops >= 40) throw new RefusedError(name, 'it is a symlink loop')
    if (st.uid !== owner.uid && st.uid !== 0) throw new RefusedError(name, `${path === name ? 'it is' : `its link ${path} is`} a symlink owned by uid ${st.uid}`)
    const next = resolve(dirname(path), readlinkSync(path))
    const t = lstatOrUndefined(next)
    if (!t) throw new RefusedError(name, `it is a symlink whose target ${next} does not exist (not creating files through a dangling link)`)
    checkTrustedDir(dirname(next), owner, name)
    path = next
    st = t
  }
  const via = path === name ? undefined : realpathSync(path)
  const what = via ? `it is a symlink to ${via}, which is` : 'it is'
  if (!st.isFile()) throw new RefusedError(name, `${what} ${describeKind(st)}`)
  if (st.uid !== owner.uid) throw new RefusedError(name, `${what} owned by uid ${st.uid}${via ? '' : `, not ${owner.uid}`}`)
  return via ? { name, path: via, stat: st, via } : { name, path: name, stat: st }
}

/**
 * Read a regular file without following a last-component symlink and without blocking on a FIFO
 * or device; at most `max` bytes (a larger file is refused). The opened file must be the one
 * `expect` described (same device and inode), so a swap between check and open is caught.
 */
export function readRegular(path: string, expect?: Stats, max = MAX_READ_BYTES): string {
  let fd: number
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
  } catch (e) {
    throw new RefusedError(path, `it cannot be opened as a plain file (${(e as NodeJS.ErrnoException).code})`)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new RefusedError(path, `it is ${describeKind(st)}`)
    if (expect && (st.dev !== expect.dev || st.ino !== expect.ino)) throw new RefusedError(path, 'it was replaced while being read')
    // Read to EOF, not to st.size: /proc/sys files report size 0.
    const buf = Buffer.alloc(Math.min(max, Math.max(st.size, 4096)) + 1)
    let n = 0
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += r
    if (n > max) throw new RefusedError(path, `it is larger than ${max} bytes`)
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/** An unpredictable name in `dir` for a file that will replace `base`. */
export const tempNameFor = (dir: string, base: string): string => join(dir, `.${base}.runcvm-${randomBytes(8).toString('hex')}.tmp`)

/**
 * Create `path` exclusively (never following or reusing anything already there) with `data`,
 * flushed, mode `mode`. Throws RefusedError when the name exists, whatever it is.
 */
export function createExclusive(path: string, data: string | Uint8Array, mode: number): void {
  let fd: number
  try {
    // O_NONBLOCK: should anything ever reach an open of a FIFO here, it must fail, not hang.
    fd = openSync(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK, 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const st = lstatOrUndefined(path)
      throw new RefusedError(path, `${st ? describeKind(st) : 'something'} already exists at that name`)
    }
    throw e
  }
  let ok = false
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fchmodSync(fd, mode & 0o7777)
    fsyncSync(fd)
    ok = true
  } finally {
    closeSync(fd)
    if (!ok) try { unlinkSync(path) } catch { /* nothing to clean */ }
  }
}

export interface ReplaceOpts {
  /** Mode of the new file (default: the old file's, else 0644). */
  mode?: number
  /** The temp name to use (tests plant files there); default: tempNameFor(). */
  tempName?: string
}

/**
 * Replace the file `t` resolved to (or create it) with `data`: a new file created exclusively
 * under an unpredictable name beside it, then renamed over it (atomic on one filesystem), then the
 * directory flushed. On any failure the target is untouched and the temp file removed.
 */
export function replaceFile(t: EditTarget, data: string, opts: ReplaceOpts = {}): void {
  const dir = dirname(t.path)
  const tmp = opts.tempName ?? tempNameFor(dir, basename(t.path))
  createExclusive(tmp, data, opts.mode ?? (t.stat ? t.stat.mode & 0o7777 : 0o644))
  try {
    // Re-check just before the rename: the target must still be what was resolved.
    const now = lstatOrUndefined(t.path)
    if (t.stat ? !now || now.ino !== t.stat.ino || now.dev !== t.stat.dev : now) throw new RefusedError(t.path, 'it changed while the installer was working')
    renameSync(tmp, t.path)
  } catch (e) {
    try { unlinkSync(tmp) } catch { /* nothing to clean */ }
    throw e
  }
  syncDir(dir)
}

/** fsync a directory so a rename in it survives a crash (best effort). */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, C.O_RDONLY | C.O_DIRECTORY)
    try { fsyncSync(fd) } finally { closeSync(fd) }
  } catch { /* not supported everywhere */ }
}
