// Edge for the boot plan (lib/vm/boot-plan.ts): read what the VM's init script needs from the
// image, with the image's root at `root` ('/vm' in the container, where ctr-qemu plans; '' in
// the VM, where the runcvm-vm-init fallback re-plans). Symlinks are followed inside `root` (a
// chroot-style walk), so an absolute link in the image never escapes to the container's own files.
import { statSync } from 'node:fs'
import { imagePathFs, readImageText, realpathIn } from '../image-fs.js'
import { resolveOnPath } from './launch.js'
import { withoutRunCvmVars } from '../workload-env.js'
import { SYSTEM_FACT_PATHS, type SystemFacts } from './guest-kernel.js'
import type { ImageFacts } from './init-script.js'

export { realpathIn, type PathFs } from '../image-fs.js'

export function readImageFacts(root: string, args: readonly string[], env: readonly string[]): ImageFacts {
  // Regular files only, resolved inside the root, bounded, non-blocking (lib/image-fs.ts).
  const text = (f: string) => readImageText(root, f)
  const fs = imagePathFs(root)
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
