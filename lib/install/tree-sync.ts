// Install/upgrade plan for the package tree: is /opt/runcvm already equal to the source tree, and
// if not, what differs. Pure: works on manifests; reading them and copying live in tree-io.ts.
//
// Differs from upstream (entrypoint-install.sh: `rsync -aR --delete` straight into /opt/runcvm):
// we never edit the live tree. A changed tree is copied in full to a staging directory beside it
// and swapped in by rename, so an interrupted copy never leaves a half-updated package behind.

export type EntryType = 'file' | 'dir' | 'symlink'

export interface TreeEntry {
  /** Path relative to the tree root, '/'-separated, no leading './'. */
  path: string
  type: EntryType
  /** Permission bits as installed (setuid/setgid already stripped for the source). */
  mode: number
  /** Files: size in bytes. */
  size?: number
  /** Files: modification time in ms (copies keep it, so it is a cheap first check). */
  mtimeMs?: number
  /** Symlinks: the link text. */
  target?: string
}

export interface TreeDiff {
  added: string[]
  changed: string[]
  removed: string[]
}

/** Permission bits we install: no setuid/setgid, ever (the tree is mounted into every container). */
export const installedMode = (mode: number): number => mode & 0o1777

/**
 * Compare two manifests. `sameContent(path)` is asked only for regular files whose type, mode and
 * size match but whose mtime differs (e.g. a rebuild that produced identical bytes); the caller
 * answers by hashing both copies.
 */
export function diffTrees(src: readonly TreeEntry[], dst: readonly TreeEntry[], sameContent: (path: string) => boolean): TreeDiff {
  const have = new Map(dst.map(e => [e.path, e]))
  const want = new Set(src.map(e => e.path))
  const added: string[] = []
  const changed: string[] = []
  for (const s of src) {
    const d = have.get(s.path)
    if (!d) { added.push(s.path); continue }
    if (s.type !== d.type || installedMode(s.mode) !== d.mode) { changed.push(s.path); continue }
    if (s.type === 'symlink' && s.target !== d.target) { changed.push(s.path); continue }
    if (s.type === 'file') {
      if (s.size !== d.size) { changed.push(s.path); continue }
      if (s.mtimeMs !== d.mtimeMs && !sameContent(s.path)) changed.push(s.path)
    }
  }
  const removed = dst.filter(e => !want.has(e.path)).map(e => e.path)
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() }
}

export const isIdentical = (d: TreeDiff): boolean => d.added.length + d.changed.length + d.removed.length === 0

/** One-line summary for the installer's log. */
export function describeDiff(d: TreeDiff): string {
  const show = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ', ...' : '')
  const parts: string[] = []
  if (d.added.length) parts.push(`${d.added.length} added (${show(d.added)})`)
  if (d.changed.length) parts.push(`${d.changed.length} changed (${show(d.changed)})`)
  if (d.removed.length) parts.push(`${d.removed.length} removed (${show(d.removed)})`)
  return parts.join('; ') || 'no differences'
}

/** Staging and retired-tree names beside the target, so renames stay on one filesystem. */
export const stagingDir = (target: string, pid: number): string => `${target}.new-${pid}`
export const retiredDir = (target: string, pid: number): string => `${target}.old-${pid}`
