// rewriteCreateConfig(spec, opts) => spec: the bundle config.json rewrite done at `runc create`
// (upstream runcvm-runtime, "create" branch). Pure: no I/O, never mutates its input. The edge that
// reads/writes the file and probes kernels is lib/oci/bundle.ts.
import { ConfigError, SpecError } from '../errors.js'
import { MEM_SIZE_MAX_MIB, shownValue } from '../validate.js'
import { parseDisks } from '../disks.js'
import { formatUidGid } from '../ids.js'
import type { KernelChoice } from '../kernel.js'
import { CTR_ENTRYPOINT, CTR_WARNINGS_LOG, RUNCVM_GUEST, STATE_DIR, VIRTIOFSD_PID_DIR, VM_MOUNTPOINT } from '../paths.js'
import { envOf, MEM_SIZE_DEFAULT_MIB, type RunCvmSettings } from '../settings.js'
import { containerMemory, specCpuLimit } from '../sizing.js'
import { deviceNode, deviceRule, nodeKey, ruleKey, vmDevices } from './devices.js'
import {
  bind, isDevPath, isDisksPath, modulesBind, tmpfs, packageBind, runTmpfs, shmTmpfs, stateTmpfs, tmpfsFstabLine, virtiofsdRunTmpfs, vmRootRbind, warningsLogBind,
} from './mounts.js'
import { diskAio } from './seccomp.js'
import { roleEnv } from '../workload-env.js'
import { type RLimit, specGuestSysctls, specRlimits, specShmSize } from '../vm/guest-limits.js'
import type { Mount, SeccompSyscall, Spec } from './spec.js'

/** argv[0] values Docker (/sbin/docker-init) and Podman (/dev/init) use for `--init`. */
export const INIT_PATHS: readonly string[] = ['/sbin/docker-init', '/dev/init']

/**
 * Capabilities added to bounding, effective and permitted. Docker already grants some of these;
 * Podman grants none: NET_ADMIN (bridge/tap/iptables), NET_RAW (dnsmasq, ARP), MKNOD (device
 * nodes), AUDIT_WRITE (dropbear logins).
 */
export const EXTRA_CAPS: readonly string[] = ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_MKNOD', 'CAP_AUDIT_WRITE']
export const CAP_SETS = ['bounding', 'effective', 'permitted'] as const

/**
 * Seccomp handling. 'relax' keeps the engine's profile (Docker's default) and appends one allow
 * rule (SECCOMP_ALLOW); 'remove' deletes linux.seccomp like upstream does (`seccomp=unconfined`).
 * Switch here if the relaxed profile proves too tight in a real boot.
 */
export type SeccompMode = 'relax' | 'remove'
export const SECCOMP_MODE: SeccompMode = 'relax'

/**
 * CLONE_NEW* flags (NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET, the mask Docker's own
 * clone rule uses) plus CLONE_NEWTIME (0x80).
 */
export const CLONE_NEW_MASK = 0x7e020000 + 0x80

/**
 * The one syscall Docker's default profile denies (it is only allowed with CAP_SYS_ADMIN) that
 * the container side needs: virtiofsd calls unshare(CLONE_FS) in its worker threads so each can
 * fchdir() on its own (Docker's default seccomp kills virtiofsd otherwise). Allowed only when
 * no namespace flag is set (SCMP_CMP_MASKED_EQ: flags & CLONE_NEW_MASK == 0), so an unprivileged
 * user namespace, the reason Docker blocks unshare, stays blocked. virtiofsd runs with
 * `-o sandbox=chroot`, so the mount/pivot_root/umount2 calls of its namespace sandbox are never
 * made; QEMU's needs (ioctl, memfd_create, mlock, eventfd...) are all allowed already, except
 * io_uring_* on Docker 25+: disks then use aio=threads (lib/oci/seccomp.ts diskAio).
 */
export const SECCOMP_ALLOW: SeccompSyscall = {
  names: ['unshare'],
  action: 'SCMP_ACT_ALLOW',
  args: [{ index: 0, value: CLONE_NEW_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
}

export interface CreateOpts {
  settings: RunCvmSettings
  kernel: KernelChoice
  /** The package root on the host (bind source for RUNCVM_GUEST). */
  hostRoot: string
  /** Absolute path of the container root (root.path resolved against the bundle). */
  rootPath: string
  seccomp?: SeccompMode
  /** Whether the host has /dev/vhost-net (probed by the edge; undefined: not checked). */
  hostHasVhostNet?: boolean
  /** The host's warnings log, ready to bind (lib/warnings.ts); undefined: no log mount. */
  warningsLog?: string
  /** The container id from runc's argv, written into warning lines. */
  containerId?: string
  /** The host's kernel.io_uring_disabled sysctl (probed only with RUNCVM_DISKS; undefined: absent). */
  hostIoUringDisabled?: number
  /** The host kernel can back tmpfs with transparent huge pages (hostShmemThp in bundle.ts). */
  hostShmemThp?: boolean
  /** With RUNCVM_HUGETLB=1: 2 MiB huge pages the host can still hand out (probeHugePages). */
  hostFreeHugePages2M?: number
  /** The rlimits runc would hand down for types the spec leaves out: the runtime's parent's (probeInheritedRlimits in bundle.ts). */
  inheritedRlimits?: readonly RLimit[]
}

/**
 * RUNCVM_HUGETLB=1: the VM's RAM comes from 2 MiB hugetlb pages, which must exist on the host
 * (vm.nr_hugepages or overcommit) and cover the whole VM. Refused at create with the numbers,
 * instead of QEMU failing at start (it reserves every page when it maps guest RAM).
 */
export function checkHugePages(memMiB: number, freePages: number | undefined): void {
  if (memMiB % 2 !== 0) {
    throw new ConfigError(`RUNCVM_HUGETLB=1 needs the VM's memory (${memMiB} MiB) to be a multiple of the 2 MiB huge page size`)
  }
  const need = memMiB / 2
  if (freePages !== undefined && freePages < need) {
    throw new ConfigError(
      `RUNCVM_HUGETLB=1 needs ${need} free 2 MiB huge pages for a ${memMiB} MiB VM, but the host has ${freePages}: ` +
      'reserve more (sysctl vm.nr_hugepages, or /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) or unset RUNCVM_HUGETLB')
  }
}

/** Parse RUNCVM_MEM_SIZE (`<n>`, `<n>M`, `<n>G`; MiB when no unit) to MiB. */
export function parseMemSize(raw: string): number {
  const m = /^([1-9]\d*)([mMgG]?)$/.exec(raw)
  const mib = m ? Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1) : NaN
  // Differs from upstream: no upper bound there (a long number became `1.024e+23M` for QEMU).
  if (!(mib <= MEM_SIZE_MAX_MIB)) {
    throw new ConfigError(`RUNCVM_MEM_SIZE '${shownValue(raw)}' invalid, must be a size like 512M or 1G, at most ${MEM_SIZE_MAX_MIB}M (1024G)`)
  }
  return mib
}

/** VM memory in MiB: the container memory limit, else RUNCVM_MEM_SIZE, else the default. */
export function vmMemoryMiB(spec: Spec, userSize: string | undefined): number {
  const limit = spec.linux?.resources?.memory?.limit
  if (typeof limit === 'number' && limit > 0) {
    const mib = Math.floor(limit / 1024 / 1024)
    if (mib > MEM_SIZE_MAX_MIB) {
      throw new ConfigError(`the container's memory limit (docker run --memory) of ${mib} MiB is too large for the VM, must be at most ${MEM_SIZE_MAX_MIB}M (1024G)`)
    }
    return mib
  }
  // Differs from runcvm-runtime: upstream ignores a user RUNCVM_MEM_SIZE at create and always
  // writes the default next to it.
  if (userSize) return parseMemSize(userSize)
  return MEM_SIZE_DEFAULT_MIB
}

/** Set NAME=value in an OCI env list: drop every earlier NAME= entry, append the new one. */
export function setEnv(env: readonly string[], name: string, value: string): string[] {
  return [...env.filter(kv => !kv.startsWith(`${name}=`)), `${name}=${value}`]
}

function union<T>(base: readonly T[], extra: readonly T[], key: (x: T) => string = String): T[] {
  const seen = new Set(base.map(key))
  const out = [...base]
  for (const x of extra) if (!seen.has(key(x))) { seen.add(key(x)); out.push(x) }
  return out
}

/**
 * A container joining another process's network namespace: Docker's `--network=container:X` (and
 * Podman's `--network=ns:/proc/...`) put `/proc/<pid>/ns/net` there. Docker's own sandboxes
 * (`/var/run/docker/netns/<id>` on Docker 23+) and Podman's (`/run/netns/...`) are this
 * container's private namespace and fine.
 */
const FOREIGN_NETNS = /^\/proc\/(\d+|self|thread-self)\/(task\/\d+\/)?ns\/net$/
/**
 * Docker's `--network=host` (captured here, Docker 20.10): a network entry whose path is the
 * host's namespace bind-mounted as `<exec-root>/netns/default` (exec-root /var/run/docker, or
 * $XDG_RUNTIME_DIR/docker when rootless). Podman's host mode has no network entry at all.
 */
const HOST_NETNS = /\/docker\/netns\/default$/

export function checkNetworkNamespace(spec: Spec): void {
  const nss = spec.linux?.namespaces
  if (!Array.isArray(nss)) return // not a Linux container config we can judge; leave it to runc
  const net = nss.find(n => n.type === 'network')
  if (!net || (net.path && HOST_NETNS.test(net.path))) {
    throw new ConfigError(
      "the container has no network namespace of its own (--network=host?); RunCVM gives the VM the container's " +
      'network interfaces and cannot share the host network: use a bridge or user-defined network, or --network=none')
  }
  if (net.path && FOREIGN_NETNS.test(net.path)) {
    throw new ConfigError(
      `the container joins another container's network namespace (${net.path}; --network=container:<name>?); ` +
      "RunCVM gives the VM the container's own network interfaces and cannot share another container's: " +
      'attach both containers to a user-defined network instead')
  }
}

/** A namespace's identity: st_dev and st_ino of its nsfs file (what `ip netns identify` compares). */
export interface NsId { dev: number; ino: number }

/**
 * The network namespace path of the spec (Docker's sandbox, Podman's or CNI's /run/netns/<name>)
 * named by its identity, not its name: whatever the path is (a symlink under /var/run/netns, a
 * bind mount of another namespace), it must not be the host's (PID 1's) or the runtime's own,
 * which RunCVM would strip of its interfaces for the VM. `target`: the identity of what the path
 * leads to (runc follows links when it opens it), undefined when it cannot be opened (runc
 * reports that). The path is the engine's (host paths, never the image's).
 */
export function checkNetnsIdentity(path: string, target: NsId | undefined, host: readonly NsId[]): void {
  if (!target || !host.some(h => h.dev === target.dev && h.ino === target.ino)) return
  throw new ConfigError(
    `the container's network namespace path ${path} is the host's network namespace (--network=host?); RunCVM gives the VM the container's ` +
    'network interfaces and cannot share the host network: use a bridge or user-defined network, or --network=none')
}

/**
 * Reverse-path filtering in the container's own network namespace. A new netns copies the host's
 * net.ipv4.conf.{all,default} values (net.core.devconf_inherit_init_net=0, the default), and the
 * bridge the VM sits behind (br-<if>) is created with `default`. Upstream's README ("rp_filter
 * sysctl settings") says max(all, <bridge>) must be 0 or 2 for Docker DNS to work in the VM.
 * Measured here (kernel 6.18, Docker 20.10, nft): with this package, host all=1 or default=1 and
 * container all/default=1 all still resolved and pinged peers by name, so this is precaution, not
 * a measured fix; early runs with host default=1 (NXDOMAIN) and all=1 (timeout) failed, but with a
 * package built from a tree carrying other unfinished changes, and did not reproduce. Loose mode
 * (2, upstream's recommendation) in the container's own netns costs nothing and touches nothing on
 * the host. An explicit `--sysctl net.ipv4.conf.{all,default}.rp_filter=...` is kept
 * (ctr-entrypoint then warns if it is strict).
 */
export const NETNS_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.conf.all.rp_filter': '2',
  'net.ipv4.conf.default.rp_filter': '2',
}

/**
 * `--read-only` (root.readonly): runc remounts the container's root read-only after its mounts,
 * but the /vm rbind, which virtiofsd serves as the VM's root, is a mount of its own and would stay
 * writable. So, after every mount that needs a mount point under /vm (runc creates those while
 * /vm is still writable), /vm is bound again onto itself read-only: only that top mount is
 * read-only (a bind remount is not recursive), so /.runcvm, volumes and tmpfs under it stay as
 * they are, and the VM's writes to its root fail with EROFS in the host kernel whatever the
 * guest does. The VM's own tmpfs mounts (fstab lines) need their mount points to exist on a root
 * that can no longer be written: a container tmpfs at each holds the place (the VM mounts its
 * own tmpfs over it).
 */
export function readOnlyVmMounts(rootPath: string, vm: string, vmTmpfs: readonly Mount[]): Mount[] {
  return [
    ...vmTmpfs.map(m => tmpfs(vm + m.destination, 'runcvm-mountpoint', ['nosuid', 'nodev', 'noexec', 'size=4k', 'mode=755'])),
    bind(`${rootPath}${vm}`, vm, ['rbind', 'private', 'ro']),
  ]
}

/**
 * The container-root paths of the mount points RunCVM adds (not the user's): /.runcvm, /vm, /run,
 * virtiofsd's pid dir, and the kernel modules' (mounted at /vm/<path>, i.e. <path> in the root).
 * The runtime creates those the image lacks in the init layer (lib/oci/init-layer.ts).
 */
export function runcvmMountPoints(kernel: KernelChoice): string[] {
  const mod = kernel.modules?.destination
  return [STATE_DIR, VM_MOUNTPOINT, '/run', VIRTIOFSD_PID_DIR,
    ...(mod?.startsWith(`${VM_MOUNTPOINT}/`) ? [mod.slice(VM_MOUNTPOINT.length)] : [])]
}

export function rewriteCreateConfig(spec: Spec, o: CreateOpts): Spec {
  if (!spec || typeof spec !== 'object' || !spec.process || !spec.root) {
    throw new SpecError('config.json has no process or root')
  }
  // Differs from runcvm-runtime: upstream accepted --network=host/container:X and broke at boot.
  checkNetworkNamespace(spec)
  // RUNCVM_DISKS is used in the container (ctr-qemu); its syntax and paths are checked here too,
  // so a bad value fails `docker run` before anything starts.
  parseDisks(o.settings.RUNCVM_DISKS)
  const out = structuredClone(spec)
  const proc = out.process
  const s = o.settings
  const vm = VM_MOUNTPOINT
  const oldEnv = proc.env ?? []
  const vars: [string, string][] = [['RUNCVM_GUEST', RUNCVM_GUEST]]
  let mounts: Mount[] = [...(out.mounts ?? [])]

  // Entrypoint. With --init, args are [<init>, '--', cmd...]: replace the engine's init (and its
  // mount) with our entrypoint, which then runs RunCVM's init in the VM. Otherwise prepend it; it
  // works out for itself whether the original entrypoint is an init.
  const args = proc.args ?? []
  if (INIT_PATHS.includes(args[0])) {
    mounts = mounts.filter(m => m.destination !== args[0])
    // Differs from runcvm-runtime: the second argument is dropped only when it is `--`.
    proc.args = [CTR_ENTRYPOINT, ...args.slice(args[1] === '--' ? 2 : 1)]
    vars.push(['RUNCVM_INIT', '1'])
  } else {
    proc.args = [CTR_ENTRYPOINT, ...args]
  }

  // HOME unset by image and `docker run` means the entrypoint must set it to the user's home
  // directory (moby#2968; see runcvm-ctr-entrypoint).
  vars.push(['RUNCVM_HAS_HOME', envOf(oldEnv).HOME ? '1' : '0'])

  // QEMU and virtiofsd must run as root; the requested user travels in the env.
  vars.push(['RUNCVM_UIDGID', formatUidGid(proc.user)])
  proc.user = { uid: 0, gid: 0 }

  // The spec's CPU limit (quota/period, cpuset); ctr-qemu caps it by the container's CPUs and the
  // machine's limit (lib/sizing.ts vcpuCount).
  vars.push(['RUNCVM_CPUS', String(specCpuLimit(out.linux?.resources?.cpu))])

  vars.push(['RUNCVM_VM_MOUNTPOINT', vm])

  // tmpfs mounts outside /dev are mounted by the VM itself (from fstab lines), not the container.
  const isVmTmpfs = (m: Mount) => m.type === 'tmpfs' && !isDevPath(m.destination)
  // Differs from runcvm-runtime: every such tmpfs becomes a line (upstream kept only the first).
  vars.push(['RUNCVM_TMPFS', mounts.filter(isVmTmpfs).map(tmpfsFstabLine).join('\n')])
  const vmTmpfs = mounts.filter(isVmTmpfs)
  mounts = mounts.filter(m => !isVmTmpfs(m))

  // Binds/volumes move under /vm so the VM sees them at their intended path, except at or below
  // /disks, which is reserved for disk backing files the container itself uses, and the
  // container's /dev/shm (Podman binds a 64 MiB tmpfs of its own there; Docker mounts a tmpfs).
  mounts = mounts.map(m => m.type === 'bind' && !isDisksPath(m.destination) && m.destination !== '/dev/shm' ? { ...m, destination: vm + m.destination } : m)

  // VM memory: /dev/shm holds the guest RAM file, so it must be as large as the VM's memory
  // (with RUNCVM_HUGETLB=1 memory comes from memfd+hugetlb, and --shm-size applies). Whatever
  // the engine put there (Docker: a tmpfs; Podman: a bind of its own 64 MiB tmpfs) is replaced:
  // a guest RAM file larger than its filesystem kills QEMU with SIGBUS once the guest touches
  // the pages past the end (measured with Podman 4.3: QEMU died, the container exited 68 with no
  // output), and a container without one gets it too.
  // huge=within_size (beyond upstream), where the host kernel has transparent huge pages: guest
  // RAM in 2 MiB pages, mapped as such by QEMU (which aligns guest RAM to 2 MiB) and, on KVM, by
  // the EPT/NPT tables: fewer TLB misses and 1/512 of the page-table memory for those ranges.
  // Safe: the file cannot outgrow its size (the VM's RAM), so the container never holds more
  // memory than without it, and where a huge page cannot be had the kernel falls back to 4 KiB
  // pages (shmem THP allocation follows transparent_hugepage/defrag: no stall by default).
  // Differs from runcvm-runtime: --shm-size, --sysctl (net.*, IPC) and the rlimits (--ulimit, and
  // the inherited ones without it) apply in the VM too (lib/vm/guest-limits.ts); upstream's guest
  // /dev/shm was unsized and the others stayed outside.
  vars.push(['RUNCVM_SHM_SIZE', specShmSize(mounts)], ['RUNCVM_SYSCTL', specGuestSysctls(out.linux?.sysctl as Record<string, unknown> | undefined)],
    ['RUNCVM_RLIMITS', specRlimits(proc.rlimits, o.inheritedRlimits)])
  const memMiB = vmMemoryMiB(spec, envOf(oldEnv).RUNCVM_MEM_SIZE)
  vars.push(['RUNCVM_MEM_SIZE', `${memMiB}M`])
  if (s.RUNCVM_HUGETLB) checkHugePages(memMiB, o.hostFreeHugePages2M)
  if (!s.RUNCVM_HUGETLB) {
    const shm = shmTmpfs(memMiB, o.hostShmemThp === true)
    mounts = mounts.some(m => m.destination === '/dev/shm')
      ? mounts.map(m => m.destination === '/dev/shm' ? shm : m)
      : [...mounts, shm]
  }

  // Order matters: /.runcvm, then the package inside it, then the /vm rbind (which carries those
  // two and nothing after it), then the original mounts, the kernel modules, /run (with the host's
  // warnings log in it), and virtiofsd's pid dir last (inside /run when the image's /var/run links there).
  const k = o.kernel
  const readOnly = out.root?.readonly === true
  out.mounts = [
    stateTmpfs(),
    packageBind(o.hostRoot, RUNCVM_GUEST),
    vmRootRbind(o.rootPath, vm),
    ...mounts,
    ...(k.modules ? [modulesBind(k.modules.source, k.modules.destination)] : []),
    ...(readOnly ? readOnlyVmMounts(o.rootPath, vm, vmTmpfs) : []),
    runTmpfs(),
    ...(o.warningsLog ? [warningsLogBind(o.warningsLog, CTR_WARNINGS_LOG)] : []),
    virtiofsdRunTmpfs(),
  ]
  if (o.containerId) vars.push(['RUNCVM_CONTAINER_ID', o.containerId])
  vars.push(['RUNCVM_KERNEL_PATH', k.kernelPath], ['RUNCVM_KERNEL_INITRAMFS_PATH', k.initramfsPath], ['RUNCVM_KERNEL_ROOT', k.root])

  // Without the host's vhost-net driver QEMU fails its tap netdev with an assertion
  // (`net_client_init1: Assertion 'nc' failed`, measured here): say so at create instead.
  if (s.RUNCVM_QEMU_NET_VHOST && o.hostHasVhostNet === false) {
    throw new ConfigError('RUNCVM_QEMU_NET_VHOST=1 needs /dev/vhost-net on the host, which is missing: load it (modprobe vhost_net) or unset RUNCVM_QEMU_NET_VHOST')
  }
  // Devices: /dev/kvm and /dev/net/tun (+ /dev/vhost-net), as nodes and as cgroup rules.
  const linux = (out.linux ??= {})
  const res = (linux.resources ??= {})
  const devs = vmDevices(s.RUNCVM_QEMU_NET_VHOST)
  linux.devices = union(linux.devices ?? [], devs.map(deviceNode), nodeKey)
  res.devices = union(res.devices ?? [], devs.map(deviceRule), ruleKey)

  // Differs from runcvm-runtime: upstream only documented rp_filter; we set loose mode in the
  // container's own netns (checkNetworkNamespace guarantees it is private).
  if (linux.namespaces?.some(n => n.type === 'network')) {
    const sysctl = (linux.sysctl ??= {}) as Record<string, string>
    for (const [k, v] of Object.entries(NETNS_SYSCTLS)) sysctl[k] ??= v
  }

  if ((o.seccomp ?? SECCOMP_MODE) === 'remove') delete linux.seccomp
  else if (linux.seccomp) linux.seccomp.syscalls = [...(linux.seccomp.syscalls ?? []), SECCOMP_ALLOW]
  // Disks: io_uring only where the profile as written and the host allow it (lib/oci/seccomp.ts).
  if (s.RUNCVM_DISKS) {
    vars.push(['RUNCVM_DISK_AIO', diskAio({ seccomp: linux.seccomp, ioUringDisabled: o.hostIoUringDisabled, sysAdmin: s.RUNCVM_SYS_ADMIN })])
  }

  // The VM's RAM plus the container's own processes, swap raised alike (lib/sizing.ts).
  res.memory = containerMemory(res.memory, memMiB, s.RUNCVM_TCG_TB_SIZE)

  // Differs from runcvm-runtime: upstream's loop only grew `bounding` (its jq ignored the loop
  // variable); we grow all three sets, so the caps do not depend on uid 0 regaining them at execve.
  const caps = (proc.capabilities ??= {})
  const extra = s.RUNCVM_SYS_ADMIN ? [...EXTRA_CAPS, 'CAP_SYS_ADMIN'] : EXTRA_CAPS
  for (const set of CAP_SETS) caps[set] = union(caps[set] ?? [], extra)

  let env = oldEnv
  for (const [name, value] of vars) env = setEnv(env, name, value)
  // The container side runs with RunCVM's own env; the workload's travels as data (roleEnv).
  proc.env = roleEnv(env)
  return out
}
