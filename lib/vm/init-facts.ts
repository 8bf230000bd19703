// Edge for the boot plan (lib/vm/boot-plan.ts): read what the VM's init script needs from the
// image, with the image's root at `root` ('/vm' in the container, where ctr-qemu plans; '' in
// the VM, where the runcvm-vm-init fallback re-plans). Symlinks are followed inside `root` (a
// chroot-style walk), so an absolute link in the image never escapes to the container's own files.
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { resolveOnPath } from './launch.js'
import { withoutRunCvmVars } from '../workload-env.js'
import { SYSTEM_FACT_PATHS, type SystemFacts } from './guest-kernel.js'
import type { ImageFacts } from './init-script.js'

export interface PathFs { isLink(p: string): boolean; readlink(p: string): string }

/** realpath of absolute-or-relative `p` (relative to '/') inside a root, through `fs` (pure walk). */
export function realpathIn(p: string, fs: PathFs, maxLinks = 40): string {
  const todo = p.split('/').filter(Boolean)
  const out: string[] = []
  let links = 0
  while (todo.length) {
    const c = todo.shift()!
    if (c === '.') continue
    if (c === '..') { out.pop(); continue }
    const cur = '/' + [...out, c].join('/')
    if (fs.isLink(cur)) {
      if (++links > maxLinks) return cur
      const t = fs.readlink(cur)
      if (t.startsWith('/')) out.length = 0
      todo.unshift(...t.split('/').filter(Boolean))
      continue
    }
    out.push(c)
  }
  return '/' + out.join('/')
}

export function readImageFacts(root: string, args: readonly string[], env: readonly string[]): ImageFacts {
  const text = (f: string) => { try { return readFileSync(root + f, 'utf8') } catch { return undefined } }
  const fs: PathFs = {
    isLink: p => { try { return lstatSync(root + p).isSymbolicLink() } catch { return false } },
    readlink: p => readlinkSync(root + p),
  }
  const arg0 = args[0] ?? ''
  const path = withoutRunCvmVars(env).find(kv => kv.startsWith('PATH='))?.slice(5)
  const found = resolveOnPath(arg0, path, p => { try { return statSync(root + realpathIn(p, fs)).isFile() } catch { return false } })
  let resolved = found ?? arg0
  // As realpath(3) in the VM: a missing path keeps the name (runcvm-init reports it).
  if (found) try { const r = realpathIn(found, fs); statSync(root + r); resolved = r } catch { /* keep */ }
  // A file (symlinks followed inside the image) at one of the paths: the image has that tool.
  const has = (paths: readonly string[]) => paths.some(p => { try { return statSync(root + realpathIn(p, fs)).isFile() } catch { return false } })
  const system: SystemFacts = {
    modprobe: has(SYSTEM_FACT_PATHS.modprobe), kmod: has(SYSTEM_FACT_PATHS.kmod), apparmorParser: has(SYSTEM_FACT_PATHS.apparmorParser),
    modprobeOnPath: has(SYSTEM_FACT_PATHS.modprobeOnPath), dockerd: has(SYSTEM_FACT_PATHS.dockerd),
  }
  return { resolved, group: text('/etc/group'), hostname: text('/etc/hostname'), etcFstab: text('/etc/fstab'), system }
}
