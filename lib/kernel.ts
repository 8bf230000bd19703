// Which kernel the VM boots: selectKernel() decides from plain data (pure); probeKernels() is the
// one small fs edge that gathers that data (os-release, in-image kernel files, bundled kernels).
//
// Rules (upstream runcvm-runtime "DETERMINE LAUNCH KERNEL"):
// 1. RUNCVM_KERNEL=<dist> or <dist>/<version>: validated, then the bundled kernel
//    <kernels>/<dist>/latest (resolved) or <kernels>/<dist>/<version>.
// 2. Otherwise the image's /etc/os-release ID (debian when it has none):
//    a. the image's own kernel+initramfs at the family's usual paths, if both exist;
//    b. else the bundled <kernels>/<ID>/latest;
//    c. else (ours) the bundled debian kernel — upstream README: "Finally, use the Debian kernel".
import { realpathSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { isImageFile, readImageText } from './image-fs.js'
import { ConfigError } from './errors.js'
import { PKG, ROOT_TAG, RUNCVM_HOST } from './paths.js'
import { shownValue } from './validate.js'

/** Where a kernel family keeps its kernel in an image, and the root= options it boots with. */
export interface KernelFamily {
  kernel: string
  initramfs: string
  /** Kernel command-line options that make it mount the virtiofs root (tag `runcvmfs`). */
  root: string
}

// Debian/Ubuntu initramfs-tools understand rootfstype=virtiofs; Oracle Linux's dracut wants
// root=virtiofs:<tag>; Alpine's mkinitfs also takes rootfstype, and `resume=` stops it probing for
// a swap image.
const DEBIAN_ROOT = `rootfstype=virtiofs root=${ROOT_TAG} noresume net.ifnames=1`
export const KERNEL_FAMILIES: Readonly<Record<string, KernelFamily>> = {
  debian: { kernel: '/vmlinuz', initramfs: '/initrd.img', root: DEBIAN_ROOT },
  ubuntu: { kernel: '/boot/vmlinuz', initramfs: '/boot/initrd.img', root: DEBIAN_ROOT },
  ol: { kernel: '/boot/vmlinuz', initramfs: '/boot/initramfs', root: `root=virtiofs:${ROOT_TAG} noresume net.ifnames=1` },
  alpine: { kernel: '/boot/vmlinuz-virt', initramfs: '/boot/initramfs-virt', root: `rootfstype=virtiofs root=${ROOT_TAG} resume=` },
  openwrt: { kernel: '/boot/vmlinuz-virt', initramfs: '/boot/initramfs-virt', root: `rootfstype=virtiofs root=${ROOT_TAG} resume=` },
}

/** Used when the image has no os-release ID, and as the last-resort bundled kernel. */
export const DEFAULT_KERNEL_DIST = 'debian'

/** Facts about the host and image, gathered by probeKernels(). */
export interface KernelProbe {
  /** os-release ID of the image, if any. */
  osId?: string
  /** In-image paths (image-absolute) that exist as files. */
  imageFiles: readonly string[]
  /**
   * Bundled kernel dirs, keyed `<dist>` / `<dist>/<version>` / `<dist>/latest`: the resolved
   * version name (basename of the realpath) when the dir exists, null when it does not.
   */
  bundled: Readonly<Record<string, string | null>>
}

export interface KernelDirs {
  /** Kernels dir on the host (bind sources). */
  hostKernels: string
  /** Same dir as seen in the container and VM. */
  guestKernels: string
  vmMount: string
}

export interface KernelChoice {
  dist: string
  /** Bundled kernel version; undefined for an in-image kernel. */
  version?: string
  kernelPath: string
  initramfsPath: string
  root: string
  /** Bind mount of the bundled kernel's modules into the VM tree (bundled kernels only). */
  modules?: { source: string; destination: string }
  /** How it was chosen, for the debug log. */
  source: 'setting' | 'image' | 'bundled' | 'fallback'
}

// Differs from runcvm-runtime: upstream's kernel errors do not name the option; ours keep its
// text and add this hint, so the user knows which setting to fix and what is accepted.
const KERNEL_HINT = `RUNCVM_KERNEL accepts <dist> or <dist>/<version>, naming a directory under ${RUNCVM_HOST}/${PKG.kernels} (e.g. debian or debian/latest)`

/** The form of a RUNCVM_KERNEL value: `<dist>` or `<dist>/<version>` (upstream's pattern, quoted in its error). */
const KERNEL_SETTING = /^[a-z]+(\/[^/]+)?$/

/** The problem with a RUNCVM_KERNEL value's form, or undefined (existence is checked against the probe). */
function kernelSettingProblem(k: string): string | undefined {
  if (k.includes('..')) return "contains '..'"
  if (!KERNEL_SETTING.test(k)) return 'should match ^[a-z]+(/[^/]+)?$'
  return undefined
}

/** Validate a RUNCVM_KERNEL value's form. */
export function validateKernelSetting(k: string): void {
  const problem = kernelSettingProblem(k)
  if (problem) throw new ConfigError(`Kernel '${shownValue(k)}' invalid (${problem})`, { hint: KERNEL_HINT })
}

/**
 * The ID from os-release text. Values may be quoted (os-release(5)); surrounding double or single
 * quotes are stripped.
 */
export function parseOsReleaseId(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line.startsWith('ID=')) continue
    const v = line.slice(3).replace(/^(["'])(.*)\1$/, '$2')
    return v === '' ? undefined : v
  }
  return undefined
}

/** The bundled-dir keys selectKernel() may look up for these inputs (so the probe stats only these). */
export function kernelKeysToProbe(setting: string | undefined, osId: string | undefined): string[] {
  if (setting) return setting.includes('/') ? [setting] : [setting, `${setting}/latest`]
  return [`${osId || DEFAULT_KERNEL_DIST}/latest`, `${DEFAULT_KERNEL_DIST}/latest`]
}

export function selectKernel(
  setting: { kernel?: string; mountLibModules: boolean },
  probe: KernelProbe,
  dirs: KernelDirs,
): KernelChoice {
  const requested = setting.kernel || undefined
  let dist: string
  let idver: string
  if (requested) {
    validateKernelSetting(requested)
    if (!probe.bundled[requested]) {
      throw new ConfigError(`Kernel '${shownValue(requested)}' not found (check ${dirs.hostKernels})`, { hint: KERNEL_HINT })
    }
    idver = requested.includes('/') ? requested : `${requested}/latest`
    dist = idver.split('/')[0]
  } else {
    dist = probe.osId || DEFAULT_KERNEL_DIST
    idver = `${dist}/latest`
  }

  let family = KERNEL_FAMILIES[dist]
  if (!family) {
    // Differs from runcvm-runtime: upstream names $RUNCVM_KERNEL here, which is empty when the ID
    // came from os-release; we name the ID that was not recognised.
    throw new ConfigError(
      `Unrecognised image O/S '${dist}'; specify --env=RUNCVM_KERNEL=<dist> or --env=RUNCVM_KERNEL=<dist>/<version>`)
  }

  if (!requested && probe.imageFiles.includes(family.kernel) && probe.imageFiles.includes(family.initramfs)) {
    return { dist, kernelPath: family.kernel, initramfsPath: family.initramfs, root: family.root, source: 'image' }
  }

  let version = probe.bundled[idver] ?? undefined
  let source: KernelChoice['source'] = requested ? 'setting' : 'bundled'
  if (!version && !requested && dist !== DEFAULT_KERNEL_DIST) {
    // Differs from runcvm-runtime: upstream builds paths to a kernel that does not exist here.
    version = probe.bundled[`${DEFAULT_KERNEL_DIST}/latest`] ?? undefined
    if (version) {
      dist = DEFAULT_KERNEL_DIST
      family = KERNEL_FAMILIES[dist]
      idver = `${dist}/latest`
      source = 'fallback'
    }
  }
  if (!version) {
    throw new ConfigError(`Kernel '${idver}' not found (check ${dirs.hostKernels})`,
      { hint: 'Install a RunCVM kernel there, or specify --env=RUNCVM_KERNEL=<dist>/<version>' })
  }

  const base = `${dist}/${version}`
  const modules = setting.mountLibModules
    ? { source: join(dirs.hostKernels, base, 'modules'), destination: `${dirs.vmMount}/lib/modules` }
    : { source: join(dirs.hostKernels, base, 'modules', version), destination: `${dirs.vmMount}/lib/modules/${version}` }
  return {
    dist, version, root: family.root, modules, source,
    kernelPath: `${dirs.guestKernels}/${base}/vmlinuz`,
    initramfsPath: `${dirs.guestKernels}/${base}/initrd`,
  }
}

/** os-release is a few hundred bytes; anything past this is not one. */
export const OS_RELEASE_MAX = 64 * 1024

/**
 * Read `file` inside the image rooted at `root`: every symlink (absolute or relative, e.g.
 * os-release -> ../usr/lib/os-release) followed inside the image, regular files only, bounded,
 * never blocking (lib/image-fs.ts). Anything else reads as missing.
 */
const readInImage = (root: string, file: string): string | undefined => readImageText(root, file, OS_RELEASE_MAX)

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory() } catch { return false }
}

const isFileInImage = (root: string, file: string): boolean => isImageFile(root, file)

/** The fs edge: gather a KernelProbe for the image at `rootfs` and the kernels dir `hostKernels`. */
export function probeKernels(rootfs: string, hostKernels: string, setting: string | undefined): KernelProbe {
  let osId: string | undefined
  let imageFiles: string[] = []
  if (!setting) {
    // Differs from runcvm-runtime: /usr/lib/os-release is read when /etc/os-release is missing (os-release(5)).
    const text = readInImage(rootfs, '/etc/os-release') ?? readInImage(rootfs, '/usr/lib/os-release')
    osId = text === undefined ? undefined : parseOsReleaseId(text)
    const fam = KERNEL_FAMILIES[osId || DEFAULT_KERNEL_DIST]
    if (fam) imageFiles = [fam.kernel, fam.initramfs].filter(f => isFileInImage(rootfs, f))
  }
  const bundled: Record<string, string | null> = {}
  // An invalid setting is reported by selectKernel(); never stat a path built from it.
  const keys = setting && kernelSettingProblem(setting) ? [] : kernelKeysToProbe(setting, osId)
  for (const key of keys) {
    const p = join(hostKernels, key)
    bundled[key] = isDir(p) ? basename(realpathSync(p)) : null
  }
  return { osId, imageFiles, bundled }
}
