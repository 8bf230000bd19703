// packaging/kernels.ts — Debian guest kernels: kernels/debian/<release>/{vmlinuz,initrd,modules/<release>}
// and kernels/debian/latest -> the cloud kernel.
//
// Two flavours ship (measured under TCG on the development machine):
//   cloud-amd64 — LZ4-compressed, boots ~2.6 s faster under TCG than the xz generic image; minimal
//                 driver set (virtio, no VGA/USB). Default (`latest`).
//   amd64       — generic: has the graphics/USB input drivers VNC display mode needs.
// Both build virtiofs/virtio as modules, so each gets our own small initramfs (busybox-static +
// the modules in dependency order + kernels/initramfs-init.sh). The .deb ships no modules.dep, so
// we run `depmod -b` on the extracted tree; the full module tree is shipped so the VM can load
// anything else its image needs (mounted at /lib/modules/<release>).
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildCpio, type CpioEntry } from './cpio'
import { mergeLoadOrder, parseShowDepends } from './plan'
import { duBytes, resolveInRoot, run, sha256, step } from './util'

export const FLAVOURS = ['cloud-amd64', 'amd64'] as const
export const DEFAULT_FLAVOUR = 'cloud-amd64'

/**
 * Modules the initramfs loads (with their dependencies): PCI and MMIO virtio transports, the
 * console (hvc0 exists only after virtio_console), virtiofs for the root, virtio_net (+failover)
 * so the guest sees its NIC early, and virtio_blk + ext4 for RUNCVM_DISKS.
 */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_mmio', 'virtio_console', 'virtiofs', 'virtio_net', 'virtio_blk', 'ext4']

/** Busybox applets the /init script uses. */
const INIT_APPLETS = ['sh', 'mount', 'umount', 'mkdir', 'insmod', 'switch_root', 'cat', 'sleep', 'poweroff', 'reboot', 'ls', 'mknod']

/** `linux-image-<abi>-<flavour>` that the meta package linux-image-<flavour> points at. */
function imagePackage(flavour: string): string {
  const text = run('apt-cache', ['depends', `linux-image-${flavour}`])
  const m = new RegExp(`Depends: (linux-image-\\d[\\w.-]*-${flavour})\\b`).exec(text)
  if (!m) throw new Error(`cannot find the kernel package behind linux-image-${flavour}`)
  return m[1]
}

function fetchAndExtract(cache: string, pkg: string): { root: string; release: string } {
  const dir = join(cache, 'kernels')
  mkdirSync(dir, { recursive: true })
  let deb = readdirSync(dir).find(f => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
  if (!deb) {
    step(`apt-get download ${pkg}`)
    run('apt-get', ['download', '-q', pkg], { cwd: dir })
    deb = readdirSync(dir).find(f => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`)
  }
  const root = join(dir, `x-${deb.replace(/\.deb$/, '')}`)
  const release = pkg.replace(/^linux-image-/, '')
  if (!existsSync(join(root, 'lib', 'modules', release, 'modules.dep'))) {
    step(`extracting ${deb} and running depmod`)
    rmSync(root, { recursive: true, force: true })
    mkdirSync(root, { recursive: true })
    run('dpkg-deb', ['-x', join(dir, deb), root])
    run('depmod', ['-b', root, release])
  }
  return { root, release }
}

/** The initramfs as a gzip'd newc cpio, built in memory. */
export function buildInitramfs(repo: string, staging: string, kroot: string, release: string): { data: Buffer; modules: string[] } {
  const lists = INITRAMFS_MODULES.map(m => parseShowDepends(run('modprobe', ['-d', kroot, '-S', release, '--show-depends', m])))
  const order = mergeLoadOrder(lists)
  const busybox = resolveInRoot(staging, 'bin/busybox')
  if (!busybox) throw new Error('busybox-static missing from the staging tree')
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'].map(path => ({ kind: 'dir' as const, path })),
    // The kernel opens /dev/console for /init's stdio before devtmpfs is mounted.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(join(staging, busybox)), mode: 0o755 },
    ...INIT_APPLETS.map(a => ({ kind: 'symlink' as const, path: `bin/${a}`, target: 'busybox' })),
    { kind: 'file', path: 'init', data: readFileSync(join(repo, 'kernels', 'initramfs-init.sh')), mode: 0o755 },
  ]
  const names: string[] = []
  for (const ko of order) {
    // modprobe prints host-absolute paths under -d; take the path below the extracted root.
    const rel = ko.startsWith(kroot) ? ko.slice(kroot.length) : ko
    const name = rel.split('/').pop()!
    names.push(name)
    entries.push({ kind: 'file', path: `lib/modules/${name}`, data: readFileSync(join(kroot, rel)), mode: 0o644 })
  }
  entries.push({ kind: 'file', path: 'lib/modules/load.list', data: Buffer.from(`${names.join('\n')}\n`) })
  return { data: gzipSync(buildCpio(entries), { level: 9 }), modules: names }
}

export interface KernelReport {
  flavour: string
  release: string
  vmlinuz: number
  initrd: number
  modules: number
  initrdModules: string[]
}


/** Install kernels into <out>/kernels/debian, skipping flavours whose stamp matches. */
export function buildKernels(repo: string, cache: string, staging: string, out: string): KernelReport[] {
  const base = join(out, 'kernels', 'debian')
  mkdirSync(base, { recursive: true })
  const key = sha256(
    readFileSync(join(repo, 'kernels', 'initramfs-init.sh')),
    readFileSync(join(repo, 'packaging', 'kernels.ts')),
    readFileSync(join(repo, 'packaging', 'cpio.ts')),
    readFileSync(join(repo, 'packaging', 'packages.lock')),
  ).slice(0, 16)
  const reports: KernelReport[] = []
  let latest = ''
  for (const flavour of FLAVOURS) {
    const pkg = imagePackage(flavour)
    const { root, release } = fetchAndExtract(cache, pkg)
    const dst = join(base, release)
    const stamp = join(dst, '.runcvm-stamp')
    let initrdModules: string[] = []
    if (!existsSync(stamp) || readFileSync(stamp, 'utf8').split('\n')[0] !== key) {
      step(`kernel ${release}: vmlinuz, initramfs, modules`)
      rmSync(dst, { recursive: true, force: true })
      mkdirSync(join(dst, 'modules'), { recursive: true })
      cpSync(join(root, 'boot', `vmlinuz-${release}`), join(dst, 'vmlinuz'))
      const initrd = buildInitramfs(repo, staging, root, release)
      writeFileSync(join(dst, 'initrd'), initrd.data)
      initrdModules = initrd.modules
      cpSync(join(root, 'lib', 'modules', release), join(dst, 'modules', release), { recursive: true, verbatimSymlinks: true })
      // build/source links point into the (absent) headers package.
      for (const l of ['build', 'source']) rmSync(join(dst, 'modules', release, l), { force: true })
      writeFileSync(stamp, `${key}\n${initrdModules.join(' ')}\n`)
    } else initrdModules = (readFileSync(stamp, 'utf8').split('\n')[1] ?? '').split(' ')
    if (flavour === DEFAULT_FLAVOUR) latest = release
    reports.push({
      flavour,
      release,
      vmlinuz: statSync(join(dst, 'vmlinuz')).size,
      initrd: statSync(join(dst, 'initrd')).size,
      modules: duBytes(join(dst, 'modules')),
      initrdModules,
    })
  }
  // Remove kernels from older ABIs, then point latest at the default flavour.
  const keep = new Set(reports.map(r => r.release))
  for (const d of readdirSync(base)) if (d !== 'latest' && !keep.has(d)) rmSync(join(base, d), { recursive: true, force: true })
  rmSync(join(base, 'latest'), { force: true })
  symlinkSync(latest, join(base, 'latest'))
  return reports
}
