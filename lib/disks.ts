// RUNCVM_DISKS: block devices for the VM, backed by files in the container (upstream
// runcvm-ctr-qemu do_disk/do_disks). `<src>,<dst>,<fs>[,<size>]` separated by `;`:
//   src  backing file in the container (created with `size` if absent, then mke2fs'd with the
//        contents of dst from the image), dst the mount point in the VM, fs an mke2fs type.
// parseDisks() checks the syntax; planDisk() checks against the filesystem facts and returns the
// commands that create a missing backing file and the VM's fstab line. Error texts are upstream's.
import { dirname } from 'node:path'
import { ConfigError } from './errors.js'
import { DISK_SIZE, FS_NAME, plainPathProblem, shownValue } from './validate.js'
import type { Cmd } from './cmd.js'

export interface DiskSpec {
  /** The spec text as given (for error messages). */
  spec: string
  src: string
  dst: string
  fs: string
  size?: string
}

/** What RUNCVM_DISKS accepts, shown under every disk error (the first line stays upstream's). */
const DISKS_HINT = 'RUNCVM_DISKS must be <src>,<dst>,<fs>[,<size>][;...]: src and dst absolute paths without whitespace, control characters or .., fs lower-case letters and digits, size a whole number with an optional K, M, G or T suffix'
const invalid = (spec: string, why: string) => new ConfigError(`disk spec '${shownValue(spec)}' invalid: ${why}`, { hint: DISKS_HINT })

export function parseDisks(raw: string): DiskSpec[] {
  if (raw.trim() === '') return []
  return raw.split(';').filter(s => s !== '').map(spec => {
    const [src = '', dst = '', fs = '', size = ''] = spec.split(',')
    if (!src || !dst || !fs) throw invalid(spec, 'src, dst and fs must all be specified')
    if (src === dst) throw invalid(spec, `src '${shownValue(src)}' cannot be same as dst`)
    // Differs from upstream (which wrote any text into the VM's fstab and QEMU's -drive file=):
    // src and dst must be plain absolute paths, fs a plain type name.
    for (const [field, v] of [['src', src], ['dst', dst]] as const) {
      const why = plainPathProblem(v)
      if (why) throw invalid(spec, `RUNCVM_DISKS ${field} '${shownValue(v)}' ${why}`)
    }
    if (!FS_NAME.test(fs)) throw invalid(spec, `RUNCVM_DISKS fs '${shownValue(fs)}' must be a filesystem type of lower-case letters and digits (e.g. ext4)`)
    // Differs from upstream: the size is checked here, not by truncate at boot.
    if (size && !DISK_SIZE.test(size)) throw invalid(spec, `RUNCVM_DISKS size '${shownValue(size)}' must be a whole number with an optional K, M, G or T suffix (e.g. 2G)`)
    return { spec, src, dst, fs, ...(size ? { size } : {}) }
  })
}

/** Facts about one disk's paths (gathered by the caller). dst is checked under the VM mount. */
export interface DiskProbe {
  srcExists: boolean
  srcIsFile: boolean
  dstExists: boolean
  dstIsDir: boolean
  /** Filesystem UUID of an existing backing file (blkid; '' when it has none). */
  uuid?: string
}

export interface DiskPlan {
  disk: DiskSpec
  /** Create the backing file if needed, and the mount point. */
  cmds: Cmd[]
  /** The VM's fstab line (the filesystem's UUID). */
  fstab: string
}

export interface DiskTools { busybox: string; mke2fs: string; vmMount: string }

/**
 * One disk: the commands that create its backing file (if needed) and the mount point, and its
 * fstab line. A new filesystem gets `newUuid` (mke2fs -U), so the fstab line is known before the
 * commands run; an existing one keeps its own (probe.uuid). Throws ConfigError.
 */
export function planDisk(d: DiskSpec, p: DiskProbe, t: DiskTools, newUuid: string): DiskPlan {
  if (p.srcExists && !p.srcIsFile) throw invalid(d.spec, `src '${d.src}' must be a plain file if it exists`)
  if (p.dstExists && !p.dstIsDir) throw invalid(d.spec, `dst '${d.dst}' must be a directory if it exists`)
  const dstInVm = `${t.vmMount}${d.dst}`
  const mkdirDst: Cmd = [t.busybox, 'mkdir', '-p', dstInVm]
  if (p.srcExists) return { disk: d, cmds: [mkdirDst], fstab: diskFstabLine(d, p.uuid ?? '') }
  if (!d.size) throw invalid(d.spec, `size must be specified if src '${d.src}' does not exist`)
  return {
    disk: d,
    cmds: [
      [t.busybox, 'mkdir', '-p', dirname(d.src)],
      [t.busybox, 'truncate', '-s', d.size, d.src],
      mkdirDst,
      // -d: populate the new filesystem with what the image has at dst.
      [t.mke2fs, '-q', '-F', '-t', d.fs, '-U', newUuid, '-d', dstInVm, d.src],
    ],
    fstab: diskFstabLine(d, newUuid),
  }
}

/** The VM's fstab line for a disk whose filesystem has `uuid`. */
export const diskFstabLine = (d: DiskSpec, uuid: string): string => `UUID=${uuid} ${d.dst} ${d.fs} defaults,noatime 0 0`
