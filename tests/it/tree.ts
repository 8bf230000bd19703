// tests/it/tree.ts — a package tree's manifest for comparisons: every path with its type, mode,
// owner, symlink text and file hash (sha256). Two install paths giving the same tree give the
// same manifest; `diffManifests` says how they differ.
import { createHash } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

export type Manifest = Map<string, string>

export function manifest(root: string): Manifest {
  const out: Manifest = new Map()
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name
      const st = lstatSync(join(root, p))
      const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
      if (st.isSymbolicLink()) out.set(p, `link ${readlinkSync(join(root, p))}`)
      else if (st.isDirectory()) { out.set(p, `dir ${head}`); walk(p) }
      else if (st.isFile()) out.set(p, `file ${head} ${createHash('sha256').update(readFileSync(join(root, p))).digest('hex')}`)
      else out.set(p, `special ${head}`)
    }
  }
  walk('')
  return out
}

/** Up to `max` differences, as readable lines; [] when equal. */
export function diffManifests(a: Manifest, b: Manifest, max = 10): string[] {
  const out: string[] = []
  for (const [p, v] of a) {
    const w = b.get(p)
    if (w === undefined) out.push(`only in first: ${p} (${v})`)
    else if (w !== v) out.push(`${p}: ${v} != ${w}`)
  }
  for (const [p, w] of b) if (!a.has(p)) out.push(`only in second: ${p} (${w})`)
  return out.slice(0, max)
}

/** The source tree as an install would produce it: modes & 0755, owner root. */
export function asInstalled(m: Manifest): Manifest {
  const out: Manifest = new Map()
  for (const [p, v] of m) {
    const f = v.split(' ')
    if (f[0] === 'link') { out.set(p, v); continue }
    f[1] = (parseInt(f[1], 8) & 0o755).toString(8)
    f[2] = '0:0'
    out.set(p, f.join(' '))
  }
  return out
}
