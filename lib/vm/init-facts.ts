// Edge for lib/vm/init-script.ts: read what the plan needs from the image and the state, with
// the image's root at `root` ('/vm' in the container, where ctr-qemu plans; '' in the VM, where
// the runcvm-vm-init fallback plans). Symlinks are followed inside `root` (a chroot-style walk),
// so an absolute link in the image never escapes to the container's own files.
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { parseSettings } from '../settings.js'
import { readConfig, readFstab, readNetwork, readVm, statePath, type VmState } from '../state.js'
import { GUEST_KERNELS, STATE_DIR } from '../paths.js'
import { SYSTEM_FACT_PATHS, type SystemFacts } from './guest-kernel.js'
import { cleanEnv, resolveOnPath, type LaunchPaths } from './launch.js'
import { BIN } from './bins.js'
import type { ImageFacts, InitScriptInput } from './init-script.js'

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
  const path = cleanEnv(env).find(kv => kv.startsWith('PATH='))?.slice(5)
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

/** The kernel booted from the package (its modules tree is the package's), not from the image. */
export const isPackageKernel = (kernelPath: string): boolean => kernelPath.startsWith(`${GUEST_KERNELS}/`)

/** runcvm-init's paths, plus the stdio ports (non-tty) or the window size (-t) ctr-qemu chose. */
export const launchPaths = (vm: VmState): LaunchPaths => ({
  runcvmInit: BIN.runcvmInit, exitFile: statePath('exitStatus'), controlPort: vm.controlPort,
  ...(vm.stdio ? { stdio: vm.stdio } : {}), ...(vm.ttySize ? { ttySize: vm.ttySize } : {}),
  ...(vm.ttyPort ? { ttyPort: vm.ttyPort } : {}),
})

/** Everything buildVmInitScript needs, from /.runcvm state and the image at `root`. */
export function readInitInput(root: string): InitScriptInput {
  const cfg = readConfig()
  const s = parseSettings(cfg.settingsEnv)
  const vm = readVm()
  return {
    cfg, vm, launch: launchPaths(vm), net: readNetwork(), fstab: readFstab(),
    settings: { RUNCVM_INIT: s.RUNCVM_INIT, RUNCVM_BOOT_TIMING: s.RUNCVM_BOOT_TIMING, RUNCVM_CGROUPFS: s.RUNCVM_CGROUPFS },
    image: readImageFacts(root, cfg.args, cfg.env),
    packageModules: isPackageKernel(s.RUNCVM_KERNEL_PATH),
    paths: {
      state: STATE_DIR, exitStatus: statePath('exitStatus'), vmStart: statePath('vmStart'), once: statePath('once'),
      fstab: statePath('fstab'), mounts: statePath('mounts'), booted: statePath('booted'), timing: statePath('timing'),
    },
  }
}
