// RunCVM's own mount points, kept out of the container's layer (`docker diff`, `docker commit`).
//
// runc creates a missing mount point in the container's root, i.e. in its writable layer: the
// directories RunCVM mounts on (/.runcvm, /vm, /run, /lib/modules/<version>, /var/run/virtiofsd)
// would show up in `docker diff` and be baked in by `docker commit`. Docker keeps its own mount
// points (/dev, /proc, /etc/hosts, ...) out of that layer by creating them in the container's
// init layer (`<id>-init`, the lowest-but-one layer of its overlay, private to the container).
// The runtime does the same at `create`: with Docker's overlay2 driver it finds that layer from the
// root's overlay mount (its first lowerdir ends in `-init/diff`) and creates there, as plain
// directories, the mount points the merged root lacks. With any other storage driver nothing is
// done and the directories land in the writable layer as before.
//
// Safety: the image is hostile, so paths are resolved inside the merged root by hand (lstat and
// readlink only; a symlink is followed inside the root, as runc does), and only directories are
// created, in the init layer, never through a symlink (each component there is lstat-ed too).
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readlinkSync, unlinkSync, utimesSync } from 'node:fs'
import { isAbsolute, join, posix } from 'node:path'

/** The directory of the container's init layer, or undefined when it cannot be found. */
export function initLayerOf(mountinfo: string, rootPath: string, readlink: (p: string) => string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ')
    if (!pre || !post) continue
    const f = pre.split(' ')
    if (unescapeMountinfo(f[4] ?? '') !== rootPath) continue
    const [fstype, , superOpts] = post.split(' ')
    if (fstype !== 'overlay') return undefined
    const lower = superOpts?.split(',').find(o => o.startsWith('lowerdir='))?.slice('lowerdir='.length).split(':')[0]
    if (!lower || !isAbsolute(lower)) return undefined
    // overlay2 names layers by short links (l/<ID> -> ../<id>/diff).
    let dir = lower
    try { const t = readlink(lower); dir = isAbsolute(t) ? t : posix.join(posix.dirname(lower), t) } catch { /* not a link */ }
    return /-init\/diff$/.test(dir) ? dir : undefined
  }
  return undefined
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeMountinfo = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

export interface FsLook {
  /** 'dir', 'link' (with its target), 'other', or undefined when the path does not exist. */
  kind(p: string): { t: 'dir' } | { t: 'link'; target: string } | { t: 'other' } | undefined
}

/**
 * `path` resolved inside `root` (the merged view), following symlinks inside the root like runc
 * (an absolute target restarts at the root, `..` stops at it): `{ path, exists }`; undefined when
 * a component is not a directory or the links loop (runc fails or copes itself: nothing to do here).
 */
export function resolveInRoot(root: string, path: string, fs: FsLook): { path: string; exists: boolean } | undefined {
  const todo = path.split('/').filter(Boolean)
  const done: string[] = []
  for (let hops = 0; todo.length;) {
    const c = todo.shift()!
    if (c === '.') continue
    if (c === '..') { done.pop(); continue }
    const k = fs.kind(join(root, ...done, c))
    if (k === undefined) {
      // The rest does not exist either: no more links to follow.
      for (const r of [c, ...todo]) { if (r === '..') done.pop(); else if (r !== '.') done.push(r) }
      return { path: '/' + done.join('/'), exists: false }
    }
    if (k.t === 'other') return undefined
    if (k.t === 'link') {
      if (++hops > 40) return undefined
      if (k.target.startsWith('/')) done.length = 0
      todo.unshift(...k.target.split('/').filter(Boolean))
      continue
    }
    done.push(c)
  }
  return { path: '/' + done.join('/'), exists: true }
}

function kindOf(p: string): ReturnType<FsLook['kind']> {
  let st
  try { st = lstatSync(p) } catch { return undefined }
  if (st.isSymbolicLink()) return { t: 'link', target: readlinkSync(p) }
  return st.isDirectory() ? { t: 'dir' } : { t: 'other' }
}

/**
 * Create in the init layer each of `paths` the merged root lacks (edge). Best effort: any failure
 * leaves runc to create the mount point in the writable layer, as without this step.
 */
export function applyInitLayerMountPoints(rootPath: string, paths: readonly string[], mountinfoFile = '/proc/self/mountinfo'): string[] {
  let init: string | undefined
  try { init = initLayerOf(readFileSync(mountinfoFile, 'utf8'), rootPath, readlinkSync) } catch { return [] }
  if (!init) return []
  const made: string[] = []
  for (const p of paths) {
    const r = resolveInRoot(rootPath, p, { kind: kindOf })
    if (!r || r.exists) continue
    // Every component in the init layer must be a real directory or absent (never a link). One
    // that the merged root has already is created with its owner, mode and times, so the merged
    // view of it does not change.
    let at = init
    let merged = rootPath
    let okay = true
    for (const c of r.path.split('/').filter(Boolean)) {
      at = join(at, c)
      merged = join(merged, c)
      const k = kindOf(at)
      if (k !== undefined) { if (k.t !== 'dir') { okay = false; break } continue }
      try {
        mkdirSync(at, { mode: 0o755 })
        const st = kindOf(merged)?.t === 'dir' ? lstatSync(merged) : undefined
        if (st) { chownSync(at, st.uid, st.gid); chmodSync(at, st.mode & 0o7777); utimesSync(at, st.atime, st.mtime) }
      } catch { okay = false; break }
    }
    if (okay) made.push(r.path)
  }
  // /.dockerenv tells programs (systemd-detect-virt, ...) they run in a Docker container; the VM
  // is not one. Docker puts the empty file in the init layer: removing it there hides it without
  // the whiteout and the rename upstream left in the writable layer (the VM's init still renames
  // one it finds, for other storage drivers).
  const env = join(init, DOCKERENV)
  try { const st = lstatSync(env); if (st.isFile() && st.size === 0) { unlinkSync(env); made.push(`-${DOCKERENV}`) } } catch { /* none */ }
  return made
}

export const DOCKERENV = '/.dockerenv'
