// Install a package tree INTO an existing directory that cannot be replaced by rename: the
// installer image's target, a bind mount of the host's /opt/runcvm at /runcvm (a mount point
// cannot be renamed). The result is the same tree installTree() makes (same entries, bytes,
// modes, owner, mtimes), so both install paths give identical trees.
//
// Each changed or new file is written under a temp name beside it and renamed over the old one,
// so a reader sees the old or the new file, never a half-written one, and running programs keep
// the old file they have open. Unlike installTree, the previous tree does not stay whole for
// running VMs: they may see new files next to old ones. Upgrades with VMs running therefore use
// runcvm-install-runtime (it swaps the whole tree and keeps the old one while it is mounted).
//
// Differs from upstream (entrypoint-install.sh: `rsync -aR --delete`): the same per-file
// replacement rsync does, plus installed modes (no group/other write, no setuid), root ownership.
import { chmodSync, copyFileSync, constants as C, lchownSync, lstatSync, lutimesSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import type { Owner } from './host-files.js'
import { hashFile, readTree } from './tree-io.js'
import { diffTrees, installedMode, isIdentical, type TreeDiff } from './tree-sync.js'

const tempName = (p: string) => `${p}.runcvm-sync-${process.pid}.tmp`

/** Bring `target` (an existing directory) to the tree `from`; returns what differed. */
export function syncInPlace(from: string, target: string, owner: Owner): TreeDiff {
  const src = readTree(from)
  const diff = diffTrees(src, readTree(target), p => hashFile(join(from, p)) === hashFile(join(target, p)), owner)
  if (isIdentical(diff)) return diff
  const todo = new Set([...diff.added, ...diff.changed])
  // Removed entries first, deepest first (a removed directory may be replaced by a file).
  for (const p of [...diff.removed].sort().reverse()) rmSync(join(target, p), { recursive: true, force: true })
  const dirs: { path: string; mode: number }[] = []
  for (const e of src) {
    const to = join(target, e.path)
    if (e.type === 'dir') {
      dirs.push({ path: to, mode: installedMode(e.mode) })
      if (!todo.has(e.path)) continue
      let st
      try { st = lstatSync(to) } catch { /* absent */ }
      if (st && !st.isDirectory()) rmSync(to, { force: true })
      if (!st || !st.isDirectory()) mkdirSync(to, { mode: 0o700 })
      lchownSync(to, owner.uid, owner.gid)
      continue
    }
    if (!todo.has(e.path)) continue
    const tmp = tempName(to)
    rmSync(tmp, { force: true, recursive: true })
    if (e.type === 'symlink') {
      symlinkSync(e.target!, tmp)
      lchownSync(tmp, owner.uid, owner.gid)
      const st = lstatSync(join(from, e.path))
      try { lutimesSync(tmp, st.atime, st.mtime) } catch { /* not supported everywhere */ }
    } else {
      copyFileSync(join(from, e.path), tmp, C.COPYFILE_EXCL)
      lchownSync(tmp, owner.uid, owner.gid)
      chmodSync(tmp, installedMode(e.mode))
      const t = (e.mtimeMs! + 0.5) / 1000 // as tree-io copyTree: the middle of the manifest's millisecond
      utimesSync(tmp, t, t)
    }
    let old
    try { old = lstatSync(to) } catch { /* absent */ }
    if (old?.isDirectory()) rmSync(to, { recursive: true, force: true })
    renameSync(tmp, to)
  }
  for (const d of dirs.reverse()) chmodSync(d.path, d.mode)
  lchownSync(target, owner.uid, owner.gid)
  chmodSync(target, installedMode(lstatSync(from).mode & 0o7777))
  return diff
}

/** Whether `dir` is a mount point (its own line in /proc/self/mountinfo). */
export function isMountPoint(dir: string, mountinfo: string): boolean {
  return mountinfo.split('\n').some(l => l.split(' ')[4]?.replace(/\\040/g, ' ') === dir)
}

