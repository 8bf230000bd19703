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
import { RUNCVM_HOST, RUNTIME_PATH } from '../paths.js'
import { currentOwner, type Owner } from './host-files.js'
import { dockerAnswers, listedRuntimePath, onPath, probeDockerd, processAlive, runProgram, runcvmContainersRunning } from './host.js'
import { SYSCTL_DROPIN } from './rp-filter.js'
import { checkRpFilter, installTree, listSysctlFiles, registerRuntime, reloadDockerd, type Change, type StepResult } from './steps.js'

export interface InstallOpts {
  /** Package tree to install. */
  from: string
  /** Check, reload and query dockerd (false: --no-dockerd; daemon.json is still updated). */
  dockerd: boolean
  /** Change the host's rp_filter (--set-rp-filter). */
  setRpFilter: boolean
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
}

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

/** Run every step; returns all changes made (dry run: that would be made). */
export async function install(o: InstallOpts, ui: InstallUi): Promise<Change[]> {
  const runtimePath = o.runtimePath ?? RUNTIME_PATH
  const owner = o.owner ?? currentOwner()
  const all: Change[] = []
  const run = async (title: string, fn: () => StepResult | Promise<StepResult>): Promise<StepResult> => {
    ui.step(title)
    const r = await fn()
    all.push(...r.changes)
    ui.done(r)
    return r
  }

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
  await run(`Installing RunCVM package from ${o.from} to ${target}`, () => installTree({
    from: o.from, target, owner, dryRun: o.dryRun, alive: processAlive,
    retiredInUse: o.dockerd ? runcvmContainersRunning : async () => true,
  }))
  const daemonJson = o.daemonJson ?? '/etc/docker/daemon.json'
  const reg = await run(`Checking ${daemonJson}`, () => registerRuntime({ file: daemonJson, runtimePath, owner, dryRun: o.dryRun }))
  if (o.dockerd) {
    const changed = reg.changes.length > 0
    if (changed || (await listedRuntimePath()) !== runtimePath) {
      await run('Reloading dockerd', async () => reloadDockerd({ facts: await probeDockerd(), dryRun: o.dryRun, run: runProgram, confirm: q => ui.confirm(q) }))
    }
    if (!o.dryRun) await run('Verifying the runtime', () => verifyRuntime(runtimePath))
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

async function verifyRuntime(runtimePath: string): Promise<StepResult> {
  const until = Date.now() + VERIFY_TIMEOUT_MS
  while ((await listedRuntimePath()) !== runtimePath) {
    if (Date.now() > until) {
      throw new RunCvmError(`dockerd does not list the runcvm runtime ${VERIFY_TIMEOUT_MS / 1000}s after the reload`, { hint: 'Restart dockerd in the usual way for this system, then run `docker info` to check.' })
    }
    await new Promise(r => setTimeout(r, 300))
  }
  return { changes: [], lines: [`docker info lists runtime runcvm (${runtimePath})`], warnings: [] }
}
