// The create/exec edges: read the JSON once, gather what the pure rewrite needs (settings, kernel
// probe), rewrite, and write the file once, atomically, only on success. Any error leaves the file
// byte-identical. Loaded lazily by scripts/runtime.ts, so pass-through verbs never evaluate it.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError, SpecError } from '../errors.js'
import { rewriteJsonFile } from '../fsx.js'
import { probeKernels, selectKernel } from '../kernel.js'
import { createLogger, type Logger } from '../log.js'
import { GUEST_KERNELS, VM_MOUNTPOINT } from '../paths.js'
import { envOf, parseSettings } from '../settings.js'
import { activePrivileged, decidePrivileged, denialMessage, policyFileFor, type EnvRecords } from '../policy.js'
import { readDockerEnvRecords, readPolicy } from '../policy-read.js'
import { appendLine, formatWarningLine } from '../warnings.js'
import { checkNetnsIdentity, rewriteCreateConfig, runcvmMountPoints, type NsId, type SeccompMode } from './rewrite-create.js'
import { applyInitLayerMountPoints } from './init-layer.js'
import { rewriteExecProcess } from './rewrite-exec.js'
import type { Process, Spec } from './spec.js'

export interface RunOpts {
  /** The host package root (normally /opt/runcvm). */
  hostRoot: string
  /** The runtime's full argv, for the debug log. */
  argv?: readonly string[]
  pid?: number
  logDir?: string
  seccomp?: SeccompMode
  /** The privileged-switch policy file (default: policyFileFor(hostRoot), i.e. /etc/runcvm/policy.json). */
  policyFile?: string
  /** Docker's env records of the container (default: readDockerEnvRecords; tests pass their own). */
  envRecords?: (rootPath: string, id: string | undefined) => { records: EnvRecords } | { why: string }
}

/** An integer sysctl, or undefined when the file is absent (older kernels) or unreadable. */
function readSysctlInt(path: string): number | undefined {
  try { const n = Number(readFileSync(path, 'utf8').trim()); return Number.isInteger(n) ? n : undefined } catch { return undefined }
}

/**
 * Whether tmpfs accepts huge=: the kernel has transparent huge pages (the sysfs file exists) and
 * the administrator has not set shmem_enabled to "deny" (which forbids huge pages on every tmpfs).
 * The file's other values only concern internal shm mounts; "[never]" is the common default.
 */
export function probeShmemThp(file = '/sys/kernel/mm/transparent_hugepage/shmem_enabled'): boolean {
  try { return !/\[deny\]/.test(readFileSync(file, 'utf8')) } catch { return false }
}

/**
 * 2 MiB huge pages a new mapping can still get: free minus already reserved, plus what overcommit
 * may still create (nr_overcommit_hugepages - surplus_hugepages). 0 when the size is not there.
 */
export function probeHugePages(dir = '/sys/kernel/mm/hugepages/hugepages-2048kB'): number {
  const n = (f: string) => readSysctlInt(`${dir}/${f}`) ?? 0
  return Math.max(0, n('free_hugepages') - n('resv_hugepages')) + Math.max(0, n('nr_overcommit_hugepages') - n('surplus_hugepages'))
}

function withLog<T>(log: Logger, f: () => T): T {
  try {
    return f()
  } catch (e) {
    log.log(`RunCVM: Error: ${(e as Error).message}`)
    throw e
  }
}

/** `runc create --bundle <bundle>`: rewrite <bundle>/config.json. */
/** The host's network namespace as the runtime sees it: PID 1's (the runtime runs in the host's PID namespace) and its own. */
const HOST_NETNS_FILES = ['/proc/1/ns/net', '/proc/self/ns/net']
/** A namespace file's identity, following links as runc does; undefined when it cannot be stat'ed. */
function nsId(path: string): NsId | undefined {
  try { const st = statSync(path); return { dev: st.dev, ino: st.ino } } catch { return undefined }
}

/**
 * `id`: the container id (runc's argv); `warningsLog`: prepares the host's warnings log and
 * returns its path (the runtime passes lib/warnings.ts prepareHostWarningsLog; without it the
 * container gets no log mount).
 */
export function runCreate(bundle: string, o: CreateRunOpts): void {
  rewriteJsonFile<Spec, Spec>(join(bundle, 'config.json'), spec => createRewrite(bundle, spec, o))
}

type CreateRunOpts = RunOpts & { id?: string; warningsLog?: () => string | undefined }

/**
 * Host-side policy (lib/policy.ts): refuse, before anything is logged or written, a privileged
 * switch the policy does not allow from where it came (the image's ENV, or an unknown source).
 * An unsafe policy file is ignored (defaults) with a line in the host's warnings log.
 */
function checkPrivileged(specEnv: readonly string[], rootPath: string, o: CreateRunOpts): void {
  const file = o.policyFile ?? policyFileFor(o.hostRoot)
  const policy = readPolicy(file, {
    warn: text => { const log = o.warningsLog?.(); if (log) appendLine(log, formatWarningLine(new Date(), o.id, text)) },
  })
  if (activePrivileged(specEnv).length === 0) return // no switch on: Docker's records are not read
  const r = (o.envRecords ?? readDockerEnvRecords)(rootPath, o.id)
  const denials = decidePrivileged(specEnv, 'records' in r ? r.records : undefined, policy)
  if (denials.length) throw new ConfigError(denialMessage(denials[0], file, 'why' in r ? r.why : undefined))
}

function createRewrite(bundle: string, spec: Spec, o: CreateRunOpts): Spec {
  const file = join(bundle, 'config.json')
  if (!spec || typeof spec !== 'object' || !spec.process || typeof spec.root?.path !== 'string') {
    throw new SpecError(`${file} has no process or root.path`)
  }
  // Differs from upstream runcvm-runtime: privileged switches from the image's ENV are refused
  // unless the host's policy allows them. Before the debug logger: an image's RUNCVM_RUNTIME_DEBUG
  // must not turn host logging on.
  checkPrivileged(spec.process.env ?? [], resolve(bundle, spec.root.path), o)
  const env = envOf(spec.process.env)
  const log = createLogger(env.RUNCVM_RUNTIME_DEBUG === '1', o.pid, o.logDir)
  return withLog(log, () => {
    log.log(`Command line: ${JSON.stringify(o.argv ?? [])}`)
    log.saveJson('config.json', 1, spec)
    const settings = parseSettings(env)
    const netnsPath = spec.linux?.namespaces?.find(n => n.type === 'network')?.path
    if (netnsPath) checkNetnsIdentity(netnsPath, nsId(netnsPath), HOST_NETNS_FILES.map(nsId).filter((x): x is NsId => !!x))
    // runtime-spec: root.path may be relative to the bundle.
    const rootPath = resolve(bundle, spec.root.path)
    log.log(`Command: create bundle=${bundle} root=${rootPath}`)
    const hostKernels = join(o.hostRoot, 'kernels')
    const probe = probeKernels(rootPath, hostKernels, settings.RUNCVM_KERNEL || undefined)
    const kernel = selectKernel(
      { kernel: settings.RUNCVM_KERNEL, mountLibModules: settings.RUNCVM_KERNEL_MOUNT_LIB_MODULES },
      probe,
      { hostKernels, guestKernels: GUEST_KERNELS, vmMount: VM_MOUNTPOINT },
    )
    log.log(`kernel probe=${JSON.stringify(probe)} choice=${JSON.stringify(kernel)}`)
    const hostHasVhostNet = settings.RUNCVM_QEMU_NET_VHOST ? existsSync('/dev/vhost-net') : undefined
    const hostIoUringDisabled = settings.RUNCVM_DISKS ? readSysctlInt('/proc/sys/kernel/io_uring_disabled') : undefined
    const hostShmemThp = settings.RUNCVM_HUGETLB ? undefined : probeShmemThp()
    const hostFreeHugePages2M = settings.RUNCVM_HUGETLB ? probeHugePages() : undefined
    const warningsLog = o.warningsLog?.()
    const out = rewriteCreateConfig(spec, {
      settings, kernel, hostRoot: o.hostRoot, rootPath, seccomp: o.seccomp, hostHasVhostNet, hostIoUringDisabled, hostShmemThp, hostFreeHugePages2M,
      warningsLog, containerId: o.id,
    })
    // RunCVM's own mount points go into the container's init layer, not its writable layer.
    const made = applyInitLayerMountPoints(rootPath, runcvmMountPoints(kernel))
    log.log(`mount points created in the init layer: ${JSON.stringify(made)}`)
    log.saveJson('config.json', 2, out)
    log.log('--- LOG ENDS ---')
    return out
  })
}

/** `runc exec --process <file>`: rewrite the process.json. */
export function runExec(file: string, o: RunOpts): void {
  rewriteJsonFile<Process, Process>(file, proc => execRewrite(file, proc, o))
}

function execRewrite(file: string, proc: Process, o: RunOpts): Process {
  if (!proc || typeof proc !== 'object') throw new SpecError(`${file} is not a process object`)
  const log = createLogger(envOf(proc.env).RUNCVM_RUNTIME_DEBUG === '1', o.pid, o.logDir)
  return withLog(log, () => {
    log.log(`Command line: ${JSON.stringify(o.argv ?? [])}`)
    log.log(`Command: exec process=${file}`)
    log.saveJson('process.json', 1, proc)
    const out = rewriteExecProcess(proc)
    log.saveJson('process.json', 2, out)
    log.log('--- LOG ENDS ---')
    return out
  })
}
