// The file-system edges of tree-sync.ts: read a tree's manifest, hash files, copy a tree.
import { createHash } from 'node:crypto'
import {
  chmodSync, closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync,
  lutimesSync, symlinkSync, utimesSync,
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
      if (st.isSymbolicLink()) out.push({ path, type: 'symlink', mode: 0o777, target: readlinkSync(join(root, path)) })
      else if (st.isDirectory()) { out.push({ path, type: 'dir', mode }); walk(path) }
      else if (st.isFile()) out.push({ path, type: 'file', mode, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) })
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
  const fd = openSync(file, 'r')
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/**
 * Copy the manifest `entries` of `src` into the new directory `dst`: symlinks as symlinks, modes
 * kept minus setuid/setgid, mtimes kept (so the next run's cheap check matches). Directory modes
 * are applied last, in case one is read-only.
 */
export function copyTree(src: string, dst: string, entries: readonly TreeEntry[]): void {
  mkdirSync(dst, { mode: 0o755 })
  const dirs: TreeEntry[] = []
  for (const e of entries) {
    const from = join(src, e.path)
    const to = join(dst, e.path)
    if (e.type === 'dir') { mkdirSync(to, { mode: 0o755 }); dirs.push(e); continue }
    if (e.type === 'symlink') {
      symlinkSync(e.target!, to)
      const st = lstatSync(from)
      try { lutimesSync(to, st.atime, st.mtime) } catch { /* not supported everywhere */ }
      continue
    }
    copyFileSync(from, to)
    chmodSync(to, installedMode(e.mode))
    // Aim at the middle of the manifest's whole millisecond: utimes takes float seconds, whose
    // rounding (~0.2 us at today's epoch) must not move the copy into the previous millisecond.
    const t = (e.mtimeMs! + 0.5) / 1000
    utimesSync(to, t, t)
  }
  for (const d of dirs.reverse()) chmodSync(join(dst, d.path), installedMode(d.mode))
  chmodSync(dst, installedMode(lstatSync(src).mode & 0o7777))
}
