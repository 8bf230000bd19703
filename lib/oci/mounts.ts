// Named mount builders and the fixed mounts RunCVM adds to every container. Data only.
// Mount semantics: https://github.com/opencontainers/runtime-spec/blob/main/config.md#mounts
import type { Mount } from './spec.js'
import { STATE_DIR, VIRTIOFSD_PID_DIR } from '../paths.js'
import { ConfigError } from '../errors.js'
import { FS_NAME, fstabOptionsOk, plainPathProblem } from '../validate.js'

export const tmpfs = (destination: string, source: string, options: string[]): Mount =>
  ({ destination, type: 'tmpfs', source, options })

export const bind = (source: string, destination: string, options: string[]): Mount =>
  ({ destination, type: 'bind', source, options })

/**
 * The state tmpfs at /.runcvm. It goes FIRST in mounts[] so the /vm rbind that follows picks it
 * up: the VM sees the same /.runcvm as the container. Options as upstream (nosuid, noexec: nothing
 * is executed from the state dir itself; the package is a separate bind mounted below it).
 */
export const stateTmpfs = (): Mount =>
  tmpfs(STATE_DIR, 'runcvm', ['nosuid', 'noexec', 'nodev', 'size=1M', 'mode=700'])

/**
 * The host package, read-only, at /.runcvm/guest. Placed after /.runcvm (so it mounts inside it)
 * and before the /vm rbind (so the VM sees it too).
 */
export const packageBind = (hostRoot: string, guestRoot: string): Mount =>
  bind(hostRoot, guestRoot, ['bind', 'private', 'ro'])

/**
 * The container root again at /vm, recursively: it carries every mount listed before it in
 * mounts[] (only those: order matters). virtiofsd serves this tree as the VM's root.
 */
export const vmRootRbind = (rootPath: string, vmMount: string): Mount =>
  bind(rootPath, vmMount, ['rbind', 'private', 'rw'])

/**
 * The container's own /run, a small tmpfs. LAST in mounts[] so it is not rbind-ed into /vm: the
 * sockets of QEMU and virtiofsd live here and must stay out of the VM's view.
 */
export const runTmpfs = (): Mount =>
  tmpfs('/run', 'run', ['nosuid', 'noexec', 'nodev', 'size=1M', 'mode=700'])

/**
 * virtiofsd's pid files (`/var/run/virtiofsd/<socket>.pid`, a path built into it): a small tmpfs
 * of the container's own, after /run (so an image whose /var/run links to /run gets it inside
 * that tmpfs), so that neither a read-only root (`--read-only`) nor the container's layer
 * (`docker diff`) is in the way.
 */
export const virtiofsdRunTmpfs = (): Mount =>
  tmpfs(VIRTIOFSD_PID_DIR, 'runcvm-virtiofsd', ['nosuid', 'noexec', 'nodev', 'size=64k', 'mode=700'])

/**
 * The host's RunCVM warnings log (lib/warnings.ts), inside the container's private /run: listed
 * after runTmpfs, so it lands on that tmpfs and, like it, is never visible in the VM.
 */
export const warningsLogBind = (hostLog: string, ctrPath: string): Mount =>
  bind(hostLog, ctrPath, ['bind', 'private', 'rw', 'nosuid', 'nodev', 'noexec'])

/** /dev/shm sized to hold the VM's memory (QEMU backs guest RAM with a file there). */
export const shmTmpfs = (sizeMiB: number, hugePages = false): Mount =>
  tmpfs('/dev/shm', 'shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${sizeMiB}M`, ...(hugePages ? ['huge=within_size'] : [])])

/** Kernel modules of a bundled kernel, read-only, at /lib/modules[/<version>] in the VM tree. */
export const modulesBind = (source: string, destination: string): Mount =>
  bind(source, destination, ['bind', 'private', 'ro'])

/** tmpfs mounts under /dev stay in the container (they are the container's /dev, /dev/shm...). */
export const isDevPath = (p: string): boolean => p === '/dev' || p.startsWith('/dev/')

/** Paths at or below /disks are reserved for disk backing files and stay in the container. */
export const isDisksPath = (p: string): boolean => p === '/disks' || p.startsWith('/disks/')

/**
 * One fstab line for a tmpfs the VM mounts itself. rprivate/private are propagation flags that
 * mean nothing to mount(8) in the VM, so they are dropped.
 */
export function tmpfsFstabLine(m: Mount): string {
  const opts = (m.options ?? []).filter(o => o !== 'rprivate' && o !== 'private')
  // Differs from upstream (which wrote the fields as given): a field with a blank or a newline
  // would add fields or lines to the VM's fstab.
  const why = plainPathProblem(m.destination)
  if (why) throw new ConfigError(`tmpfs mount destination '${m.destination}' invalid: ${why} (--tmpfs/--mount type=tmpfs)`)
  if ((m.source ?? 'tmpfs') !== 'tmpfs' && !FS_NAME.test(m.source ?? '')) {
    throw new ConfigError(`tmpfs mount source '${m.source}' at '${m.destination}' invalid, must be lower-case letters and digits`)
  }
  if (opts.length && !opts.every(fstabOptionsOk)) {
    throw new ConfigError(`tmpfs mount options at '${m.destination}' invalid, must not contain whitespace or control characters (--tmpfs/--mount type=tmpfs)`)
  }
  return `${m.source ?? 'tmpfs'} ${m.destination} tmpfs ${opts.join(',')} 0 0`
}
