// Install/upgrade plan for the package tree: is /opt/runcvm already equal to the source tree, and
// if not, what differs. Pure: works on manifests; reading them and copying live in tree-io.ts.
//
// Differs from upstream (entrypoint-install.sh: `rsync -aR --delete` straight into /opt/runcvm):
// we never edit the live tree. A changed tree is copied in full to a staging directory beside it
// and swapped in by rename, so an interrupted copy never leaves a half-updated package behind.
// The installed tree is owned by root with no group/other write bit anywhere and no
// setuid/setgid/sticky bit: it is mounted into every container and its scripts run as root.

export type EntryType = 'file' | 'dir' | 'symlink'

export interface TreeEntry {
  /** Path relative to the tree root, '/'-separated, no leading './'. */
  path: string
  type: EntryType
  /** Permission bits (from lstat; see installedMode for what the installed tree gets). */
  mode: number
  /** Owner and group (installed trees: the installer's, i.e. root). */
  uid?: number
  gid?: number
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

/**
 * Permission bits we install: the source's read/execute bits and the owner's write bit only. No
 * group/other write (anyone else who could write a script or binary here would run code as root
 * in every container), no setuid/setgid/sticky, ever.
 */
export const installedMode = (mode: number): number => mode & 0o755

/**
 * Compare two manifests. `sameContent(path)` is asked only for regular files whose type, mode and
 * size match but whose mtime differs (e.g. a rebuild that produced identical bytes); the caller
 * answers by hashing both copies. With `owner`, a target entry owned by anyone else is changed.
 */
export function diffTrees(src: readonly TreeEntry[], dst: readonly TreeEntry[], sameContent: (path: string) => boolean, owner?: { uid: number; gid: number }): TreeDiff {
  const have = new Map(dst.map(e => [e.path, e]))
  const want = new Set(src.map(e => e.path))
  const added: string[] = []
  const changed: string[] = []
  for (const s of src) {
    const d = have.get(s.path)
    if (!d) { added.push(s.path); continue }
    if (s.type !== d.type || (s.type !== 'symlink' && installedMode(s.mode) !== d.mode)) { changed.push(s.path); continue }
    if (owner && (d.uid !== owner.uid || d.gid !== owner.gid)) { changed.push(s.path); continue }
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

/**
 * Prefixes of the staging and retired-tree directories beside the target (renames stay on one
 * filesystem). The directories themselves are made with mkdtemp: `<prefix>XXXXXX`, created
 * exclusively under a name nobody can predict.
 */
export const stagingPrefix = (target: string, pid: number): string => `${target}.new-${pid}-`
export const retiredPrefix = (target: string, pid: number): string => `${target}.old-${pid}-`

/** An entry beside the target, as the leftover planner sees it. */
export interface SiblingEntry { name: string; isDir: boolean; uid: number }

export interface LeftoverPlan {
  /** Names (in the target's parent) to remove recursively. */
  remove: string[]
  /** Names matching the pattern that are left alone, with why. */
  keep: { name: string; why: string }[]
}

/**
 * Which earlier staging/retired directories beside `target` to remove: staging dirs of installers
 * that are gone (`alive(pid)` false) and retired trees once no RunCVM container may still use
 * them (`retiredInUse` false). Only real directories owned by `uid` are ever removed: anything
 * else at such a name (a symlink, a FIFO, someone else's directory) is left alone and reported.
 * Also matches the names of older installers (`<target>.new-<pid>` without the random suffix).
 */
export function planLeftovers(targetName: string, entries: readonly SiblingEntry[], uid: number,
  alive: (pid: number) => boolean, retiredInUse: boolean): LeftoverPlan {
  const plan: LeftoverPlan = { remove: [], keep: [] }
  for (const e of entries) {
    const m = /^(.*)\.(old|new)-(\d+)(?:-[A-Za-z0-9]+)?$/.exec(e.name)
    if (!m || m[1] !== targetName) continue
    if (!e.isDir || e.uid !== uid) { plan.keep.push({ name: e.name, why: `not a directory owned by uid ${uid}` }); continue }
    if (m[2] === 'new' && alive(Number(m[3]))) { plan.keep.push({ name: e.name, why: `installer ${m[3]} is still copying` }); continue }
    if (m[2] === 'old' && retiredInUse) { plan.keep.push({ name: e.name, why: 'running RunCVM containers may still use it' }); continue }
    plan.remove.push(e.name)
  }
  return plan
}
