// Named mount builders and the fixed mounts RunCVM adds to every container. Data only.
// Mount semantics: https://github.com/opencontainers/runtime-spec/blob/main/config.md#mounts
import type { Mount } from './spec.js'
import { STATE_DIR } from '../paths.js'

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
  return `${m.source ?? 'tmpfs'} ${m.destination} tmpfs ${opts.join(',')} 0 0`
}
