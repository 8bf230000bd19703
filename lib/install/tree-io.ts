// The file-system edges of tree-sync.ts: read a tree's manifest, hash files, copy a tree.
import { createHash } from 'node:crypto'
import {
  chmodSync, closeSync, constants as C, copyFileSync, lchownSync, lstatSync, mkdirSync, openSync, readSync, readdirSync,
  readlinkSync, lutimesSync, symlinkSync, utimesSync,
} from 'node:fs'
import { join } from 'node:path'
import { installedMode, type TreeEntry } from './tree-sync.js'

/** Walk `root` (not following symlinks) into a manifest, sorted by path. [] if root is missing. */
export function readTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = []
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name
      const st = lstatSync(join(root, path))
      const mode = st.mode & 0o7777
      const ids = { uid: st.uid, gid: st.gid }
      if (st.isSymbolicLink()) out.push({ path, type: 'symlink', mode: 0o777, ...ids, target: readlinkSync(join(root, path)) })
      else if (st.isDirectory()) { out.push({ path, type: 'dir', mode, ...ids }); walk(path) }
      else if (st.isFile()) out.push({ path, type: 'file', mode, ...ids, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) })
      // sockets, fifos, devices: never part of the package
    }
  }
  try { lstatSync(root) } catch { return out }
  walk('')
  return out
}

export function hashFile(file: string): string {
  const h = createHash('sha256')
  const buf = Buffer.allocUnsafe(1 << 20)
  const fd = openSync(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/**
 * Copy the manifest `entries` of `src` into `dst`, a fresh empty directory the caller made
 * (mkdtemp): symlinks as symlinks, every entry owned by `owner`, modes as installedMode() allows
 * (no group/other write, no setuid/setgid/sticky), mtimes kept (so the next run's cheap check
 * matches). Every name is created exclusively. Directory modes are applied last, in case one is
 * read-only.
 */
export function copyTree(src: string, dst: string, entries: readonly TreeEntry[], owner: { uid: number; gid: number }): void {
  const dirs: TreeEntry[] = []
  for (const e of entries) {
    const from = join(src, e.path)
    const to = join(dst, e.path)
    if (e.type === 'dir') { mkdirSync(to, { mode: 0o700 }); lchownSync(to, owner.uid, owner.gid); dirs.push(e); continue }
    if (e.type === 'symlink') {
      symlinkSync(e.target!, to)
      lchownSync(to, owner.uid, owner.gid)
      const st = lstatSync(from)
      try { lutimesSync(to, st.atime, st.mtime) } catch { /* not supported everywhere */ }
      continue
    }
    copyFileSync(from, to, C.COPYFILE_EXCL)
    lchownSync(to, owner.uid, owner.gid)
    chmodSync(to, installedMode(e.mode))
    // Aim at the middle of the manifest's whole millisecond: utimes takes float seconds, whose
    // rounding (~0.2 us at today's epoch) must not move the copy into the previous millisecond.
    const t = (e.mtimeMs! + 0.5) / 1000
    utimesSync(to, t, t)
  }
  for (const d of dirs.reverse()) chmodSync(join(dst, d.path), installedMode(d.mode))
  lchownSync(dst, owner.uid, owner.gid)
  chmodSync(dst, installedMode(lstatSync(src).mode & 0o7777))
}
