// The installer as one function: the steps of runcvm-install-runtime in order, each reported to
// the caller as it finishes. scripts/install-runtime.ts only parses argv and prints.
//
// Ports upstream runcvm-install-runtime.sh (host role, run as root). Differences, all deliberate:
// the package comes from a local tree instead of `docker run newsnowlabs/runcvm` (no registry
// here) and is swapped in atomically, owned by root with no group/other write bit; daemon.json is
// merged in TypeScript, not jq, backed up first, updated through a symlink, and a malformed file is
// reported and left alone; every file is written exclusively and planted files are refused;
// dockerd is reloaded (SIGHUP), not restarted, and the result verified; the host's rp_filter is
// only checked and explained unless --set-rp-filter asks to change it; --dry-run shows the
// changes without making them; every step is idempotent, and a second run says it changed nothing.
import { ConfigError, RunCvmError } from '../errors.js'
import { HOST_BIN_DIR, HOST_RUN_DIR, RUNCVM_HOST, RUNTIME_PATH } from '../paths.js'
import { currentOwner, type Owner } from './host-files.js'
import { dockerAnswers, listedDefaultRuntime, listedRuntimePath, onPath, probeDockerd, processAlive, runProgram } from './host.js'
import { SYSCTL_DROPIN } from './rp-filter.js'
import {
  checkRpFilter, installTree, linkDoctor, listSysctlFiles, registerRuntime, reloadDockerd, removeTree, unlinkDoctor, unpersistRpFilter,
  unregisterRuntime, type Change, type StepResult,
} from './steps.js'
import { namespacesUsing } from './tree-use.js'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export interface InstallOpts {
  /** Package tree to install. */
  from: string
  /** Check, reload and query dockerd (false: --no-dockerd; daemon.json is still updated). */
  dockerd: boolean
  /** Change the host's rp_filter (--set-rp-filter). */
  setRpFilter: boolean
  /** Make runcvm dockerd's default runtime (--default-runtime: Swarm nodes that run tasks as VMs). */
  setDefault?: boolean
  /** Report what would change, change nothing (--dry-run). */
  dryRun: boolean
  /** Where things are (defaults: the real host paths; tests point them at temp directories). */
  target?: string
  daemonJson?: string
  runtimePath?: string
  procConf?: string
  sysctlFiles?: string[]
  sysctlDropIn?: string
  owner?: Owner
  /** Directory on PATH for the runcvm-doctor link (default /usr/local/bin). */
  binDir?: string
  /** How many other mount namespaces use a tree (default: tree-use.ts namespacesUsing). */
  inUse?: (dir: string) => number
}

/** Where runcvm-doctor is linked (on root's and users' PATH on Debian and most distributions). */
export const DEFAULT_BIN_DIR = HOST_BIN_DIR

export interface InstallUi {
  /** A step starts (its title). */
  step(title: string): void
  /** A step finished. */
  done(result: StepResult): void
  /** Ask the user (only for a dockerd restart); non-interactive callers answer true. */
  confirm(question: string): Promise<boolean>
}

/** How long to wait for `docker info` to list runcvm after a reload (dockerd reloads asynchronously). */
export const VERIFY_TIMEOUT_MS = 15_000

/** Runs one titled step through the UI and collects its changes into `all`. */
function stepRunner(ui: InstallUi, all: Change[]) {
  return async (title: string, fn: () => StepResult | Promise<StepResult>): Promise<StepResult> => {
    ui.step(title)
    const r = await fn()
    all.push(...r.changes)
    ui.done(r)
    return r
  }
}

/** Run every step; returns all changes made (dry run: that would be made). */
export async function install(o: InstallOpts, ui: InstallUi): Promise<Change[]> {
  const runtimePath = o.runtimePath ?? RUNTIME_PATH
  const owner = o.owner ?? currentOwner()
  const all: Change[] = []
  const run = stepRunner(ui, all)

  if (o.dockerd) {
    await run('Checking dockerd', async () => {
      if (!(await onPath('docker'))) throw new ConfigError("the 'docker' client is not installed", { hint: 'Install docker (e.g. apt-get install docker.io), or pass --no-dockerd.' })
      if (!(await dockerAnswers())) throw new ConfigError('dockerd is not running; start it and try again (or pass --no-dockerd)')
      return { changes: [], lines: ['dockerd is running'], warnings: [] }
    })
  } else {
    await run('Checking dockerd', () => ({ changes: [], lines: ['skipped (--no-dockerd): dockerd is not checked, reloaded or queried'], warnings: [] }))
  }
  const target = o.target ?? RUNCVM_HOST
  const inUse = o.inUse ?? namespacesUsing
  await run(`Installing RunCVM package from ${o.from} to ${target}`, () => installTree({
    from: o.from, target, owner, dryRun: o.dryRun, alive: processAlive,
    // A retired tree stays while any container still has it mounted (it keeps working on it).
    retiredInUse: async dir => inUse(dir) > 0,
  }))
  await run('Linking runcvm-doctor', () => linkDoctor({ binDir: o.binDir ?? DEFAULT_BIN_DIR, target, owner, dryRun: o.dryRun }))
  const daemonJson = o.daemonJson ?? '/etc/docker/daemon.json'
  const reg = await run(`Checking ${daemonJson}`, () => registerRuntime({ file: daemonJson, runtimePath, setDefault: o.setDefault, owner, dryRun: o.dryRun }))
  if (o.dockerd) {
    const changed = reg.changes.length > 0
    if (changed || (await listedRuntimePath()) !== runtimePath || (o.setDefault && (await listedDefaultRuntime()) !== 'runcvm')) {
      await run('Reloading dockerd', async () => reloadDockerd({ facts: await probeDockerd(), dryRun: o.dryRun, run: runProgram, confirm: q => ui.confirm(q) }))
    }
    if (!o.dryRun) await run('Verifying the runtime', () => verifyRuntime(runtimePath, o.setDefault ?? false))
  }
  if (await onPath('podman')) {
    await run('Detected podman', () => ({
      changes: [], warnings: [],
      lines: ['For experimental RunCVM support, add to the [engine.runtimes] section of /etc/containers/containers.conf:', `  runcvm = [ "${runtimePath}" ]`],
    }))
  }
  await run('Checking rp_filter', () => checkRpFilter({
    procConf: o.procConf ?? '/proc/sys/net/ipv4/conf', set: o.setRpFilter, sysctlFiles: o.sysctlFiles ?? listSysctlFiles(),
    dropIn: o.sysctlDropIn ?? SYSCTL_DROPIN, owner, dryRun: o.dryRun,
  }))
  return all
}

async function verifyRuntime(runtimePath: string, setDefault: boolean): Promise<StepResult> {
  const until = Date.now() + VERIFY_TIMEOUT_MS
  while ((await listedRuntimePath()) !== runtimePath || (setDefault && (await listedDefaultRuntime()) !== 'runcvm')) {
    if (Date.now() > until) {
      throw new RunCvmError(`dockerd does not list the runcvm runtime ${VERIFY_TIMEOUT_MS / 1000}s after the reload`, { hint: 'Restart dockerd in the usual way for this system, then run `docker info` to check.' })
    }
    await new Promise(r => setTimeout(r, 300))
  }
  return { changes: [], lines: [`docker info lists runtime runcvm (${runtimePath})${setDefault ? ' as the default runtime' : ''}`], warnings: [] }
}

export interface UninstallOpts extends Omit<InstallOpts, 'from' | 'setRpFilter'> {
  /** Remove even while containers still use the package (they lose it: exec and stop may fail). */
  force: boolean
}

/**
 * Remove what install() added: the runtimes.runcvm entry (backed up first) and a dockerd reload,
 * the runcvm-doctor link, what --set-rp-filter persisted, the package tree with its leftovers,
 * and the warnings log directory. Refuses, changing nothing, while any container still has the
 * package (or a retired copy) mounted, unless forced.
 */
export async function uninstall(o: UninstallOpts, ui: InstallUi): Promise<Change[]> {
  const owner = o.owner ?? currentOwner()
  const target = o.target ?? RUNCVM_HOST
  const inUse = o.inUse ?? namespacesUsing
  const all: Change[] = []
  const run = stepRunner(ui, all)
  await run('Checking for containers using the package', () => {
    const parent = dirname(target), name = basename(target)
    const trees = [target, ...(existsSync(parent) ? readdirSync(parent).filter(n => n.startsWith(`${name}.old-`)).map(n => join(parent, n)) : [])]
    const busy = trees.map(t => [t, inUse(t)] as const).filter(([, n]) => n > 0)
    if (!busy.length) return { changes: [], lines: ['no container uses it'], warnings: [] }
    const what = busy.map(([t, n]) => `${t} (${n} container${n > 1 ? 's' : ''})`).join(', ')
    if (!o.force) {
      throw new ConfigError(`RunCVM containers are still running: ${what}; nothing was removed`, {
        hint: 'Stop them first (docker ps; docker stop ...), or pass --force to remove the package anyway (running VMs then lose their package: exec and stop may fail).',
      })
    }
    return { changes: [], lines: [], warnings: [`Warning: removing the package although containers use it (--force): ${what}`] }
  })
  const daemonJson = o.daemonJson ?? '/etc/docker/daemon.json'
  const reg = await run(`Removing runtimes.runcvm from ${daemonJson}`, () => unregisterRuntime({ file: daemonJson, owner, dryRun: o.dryRun }))
  if (o.dockerd && reg.changes.length && await dockerAnswers()) {
    await run('Reloading dockerd', async () => reloadDockerd({ facts: await probeDockerd(), dryRun: o.dryRun, run: runProgram, confirm: q => ui.confirm(q) }))
  }
  await run('Removing the runcvm-doctor link', () => unlinkDoctor({ binDir: o.binDir ?? DEFAULT_BIN_DIR, target, owner, dryRun: o.dryRun }))
  await run('Removing persisted rp_filter settings', () => unpersistRpFilter({
    sysctlFiles: o.sysctlFiles ?? listSysctlFiles(), dropIn: o.sysctlDropIn ?? SYSCTL_DROPIN, owner, dryRun: o.dryRun,
  }))
  await run(`Removing the package ${target}`, () => removeTree({ target, owner, dryRun: o.dryRun }))
  if (o.target === undefined) {
    await run(`Removing ${HOST_RUN_DIR}`, () => {
      if (!existsSync(HOST_RUN_DIR)) return { changes: [], lines: [`${HOST_RUN_DIR} does not exist`], warnings: [] }
      if (!o.dryRun) rmSync(HOST_RUN_DIR, { recursive: true, force: true })
      return { changes: [{ path: HOST_RUN_DIR, what: o.dryRun ? 'would remove' : 'removed' }], lines: [`removed ${HOST_RUN_DIR} (the warnings log)`], warnings: [] }
    })
  }
  return all
}
