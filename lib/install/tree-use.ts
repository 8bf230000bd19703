// Is a package tree still in use by running containers? Every RunCVM container bind-mounts the
// package tree (read-only, at /.runcvm/guest) in its own mount namespace; the mount holds the
// directory itself, not its name, so after the installer renames the tree aside the container's
// mountinfo shows the new name. A tree is in use while any mount namespace other than ours has a
// mount whose source is that directory (or a path inside it) on the same filesystem.
//
// This works for every engine (Docker under any runtime name, Podman, containerd/ctr) and needs no
// daemon: upstream, and the first version of this installer, asked `docker ps` for containers of
// the runtime named exactly `runcvm`, which misses other names and other engines.
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs'

/** One /proc/<pid>/mountinfo line, the fields we use. */
export interface MountLine { majmin: string; root: string; mountPoint: string }

/** mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** Parse mountinfo text (proc(5)): `id parent maj:min root mountpoint options ... - fstype source superopts`. */
export function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length < 5 || !/^\d+:\d+$/.test(f[2])) continue
    out.push({ majmin: f[2], root: unescape(f[3]), mountPoint: unescape(f[4]) })
  }
  return out
}

/**
 * Where `realPath` lives as (filesystem, path inside it), from our own mountinfo: the mount with the
 * longest mount point that is a prefix of the path. Pure.
 */
export function locate(realPath: string, own: readonly MountLine[]): { majmin: string; root: string } | undefined {
  let best: MountLine | undefined
  for (const m of own) {
    const mp = m.mountPoint
    const under = mp === '/' || realPath === mp || realPath.startsWith(`${mp}/`)
    if (under && (!best || mp.length >= best.mountPoint.length)) best = m
  }
  if (!best) return undefined
  const rest = best.mountPoint === '/' ? realPath : realPath.slice(best.mountPoint.length)
  const root = `${best.root === '/' ? '' : best.root}${rest}` || '/'
  return { majmin: best.majmin, root }
}

/** Whether a namespace's mounts include the located tree (the tree itself or a path inside it). Pure. */
export function mountsTree(lines: readonly MountLine[], tree: { majmin: string; root: string }): boolean {
  return lines.some(m => m.majmin === tree.majmin && (m.root === tree.root || m.root.startsWith(`${tree.root}/`)))
}

/**
 * Edge: how many other mount namespaces (processes' /proc/<pid>/ns/mnt) mount `dir`. 0 when the
 * tree is free. When /proc cannot be read at all the answer is "in use" (1): keeping a tree is safe.
 */
export function namespacesUsing(dir: string, proc = '/proc'): number {
  let real: string
  try { real = realpathSync(dir) } catch { return 0 }
  let ownNs = '', tree
  try {
    ownNs = readlinkSync(`${proc}/self/ns/mnt`)
    tree = locate(real, parseMountinfo(readFileSync(`${proc}/self/mountinfo`, 'utf8')))
  } catch { return 1 }
  if (!tree) return 1
  const seen = new Set([ownNs])
  let n = 0
  for (const pid of readdirSync(proc).filter(d => /^\d+$/.test(d))) {
    let ns
    try { ns = readlinkSync(`${proc}/${pid}/ns/mnt`) } catch { continue } // gone, or a kernel thread
    if (seen.has(ns)) continue
    seen.add(ns)
    try { if (mountsTree(parseMountinfo(readFileSync(`${proc}/${pid}/mountinfo`, 'utf8')), tree)) n++ } catch { /* exited */ }
  }
  return n
}
