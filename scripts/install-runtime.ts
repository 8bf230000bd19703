// runcvm-install-runtime: install/upgrade /opt/runcvm and register the runcvm runtime with Docker.
//
//   runcvm-install-runtime [--from DIR] [--no-dockerd] [--yes] [--quiet]
//
//   --from DIR     package tree to install (default: the tree this script runs from, two levels up)
//   --no-dockerd   do not check, reload or query dockerd (daemon.json is still updated)
//   --yes, -y      never prompt (also implied when stdin is not a tty, so CI never blocks)
//   --quiet, -q    only warnings and errors
//
// Ports upstream runcvm-install-runtime.sh (host role, run as root). Differences, all deliberate:
// the package comes from a local tree instead of `docker run newsnowlabs/runcvm` (no registry
// here) and is swapped in atomically; daemon.json is merged in TypeScript, not jq, and a
// malformed file is reported and left alone; dockerd is reloaded (SIGHUP), not restarted, and the
// result verified; every step is idempotent, and a second run says it changed nothing.
import minimist from 'minimist'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { ConfigError, RunCvmError } from '../lib/errors.js'
import { writeFileAtomic } from '../lib/fsx.js'
import { RUNCVM_HOST, RUNTIME_PATH } from '../lib/paths.js'
import { reportAndExit, runRole } from '../lib/proc.js'
import { mergeRuntime } from '../lib/install/daemon-json.js'
import { planReload, type DockerdFacts } from '../lib/install/dockerd.js'
import { patchSysctlText, planRpFilter, SYSCTL_DROPIN, SYSCTL_DROPIN_TEXT, SYSCTL_MARK } from '../lib/install/rp-filter.js'
import { copyTree, hashFile, readTree } from '../lib/install/tree-io.js'
import { describeDiff, diffTrees, isIdentical, retiredDir, stagingDir } from '../lib/install/tree-sync.js'

/** This script's own file (bundles are CommonJS: no import.meta), with symlinks resolved as Node does for the main module. */
const scriptPath = (): string => realpathSync(resolve(process.argv[1]))

// The bundle drops the header comments, so the usage text lives in code.
const USAGE = `runcvm-install-runtime [--from DIR] [--no-dockerd] [--yes] [--quiet]

  --from DIR     package tree to install (default: the tree this script runs from, two levels up)
  --no-dockerd   do not check, reload or query dockerd (daemon.json is still updated)
  --yes, -y      never prompt (also implied when stdin is not a tty, so CI never blocks)
  --quiet, -q    only warnings and errors`

const DAEMON_JSON = '/etc/docker/daemon.json'
const SYSCTL_FILES = ['/etc/sysctl.conf', '/etc/sysctl.d']
const PROC_RP = (which: string) => `/proc/sys/net/ipv4/conf/${which}/rp_filter`
/** How long to wait for `docker info` to list runcvm after a reload (dockerd reloads asynchronously). */
const VERIFY_TIMEOUT_MS = 15_000

function parseArgv(): minimist.ParsedArgs {
  try {
    return minimist(process.argv.slice(2), {
      string: ['from'],
      // minimist reads `--no-dockerd` as dockerd=false, so the flag is declared by its positive name.
      boolean: ['dockerd', 'yes', 'quiet', 'help'],
      default: { dockerd: true },
      alias: { y: 'yes', q: 'quiet', h: 'help' },
      unknown: a => { throw new ConfigError(`unknown argument '${a}' (see --help)`) },
    })
  } catch (e) {
    return reportAndExit(e)
  }
}
const argv = parseArgv()
const opts = {
  from: resolve(argv.from ?? dirname(dirname(scriptPath()))),
  dockerd: argv.dockerd as boolean,
  interactive: !argv.yes && process.stdin.isTTY === true,
  quiet: argv.quiet as boolean,
}
const changes: string[] = []
const log = (s: string) => { if (!opts.quiet) console.log(s) }
const warn = (s: string) => console.error(s)

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '') || (r.error?.message ?? '') }
}
const onPath = (bin: string) => (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).some(d => d && existsSync(join(d, bin)))

function ask(question: string): boolean {
  if (!opts.interactive) return true
  writeSync(1, `${question} (Y/n): `)
  const buf = Buffer.alloc(64)
  const n = readSync(0, buf, 0, buf.length, null)
  const a = buf.subarray(0, n).toString().trim()
  return a === '' || /^y/i.test(a)
}

// --- package tree ---
function installTree(): void {
  const target = RUNCVM_HOST
  if (existsSync(target) && realpathSync(opts.from) === realpathSync(target)) {
    log(`- Running from ${target} itself; no package to copy`)
    return
  }
  if (!existsSync(join(opts.from, 'scripts', 'runcvm-runtime'))) {
    throw new ConfigError(`${opts.from} does not look like a RunCVM package (no scripts/runcvm-runtime)`, { hint: 'Pass --from <dir>, e.g. --from dist/opt/runcvm after `node build.mjs`.' })
  }
  log(`- Installing RunCVM package from ${opts.from} to ${target} ...`)
  const src = readTree(opts.from)
  const diff = diffTrees(src, readTree(target), p => hashFile(join(opts.from, p)) === hashFile(join(target, p)))
  if (isIdentical(diff)) {
    log(`  - ${target} already up to date (${src.length} entries compared); nothing changed`)
    removeLeftovers(target)
    return
  }
  log(`  - ${existsSync(target) ? describeDiff(diff) : 'fresh install'}`)
  const staging = stagingDir(target, process.pid)
  rmSync(staging, { recursive: true, force: true })
  try {
    copyTree(opts.from, staging, src)
  } catch (e) {
    rmSync(staging, { recursive: true, force: true })
    throw new RunCvmError(`copying the package to ${staging} failed (${(e as Error).message}); ${target} was not touched`, { cause: e })
  }
  // Two renames: the window without a target is microseconds, and never shows a half tree.
  const retired = retiredDir(target, process.pid)
  if (existsSync(target)) renameSync(target, retired)
  renameSync(staging, target)
  if (existsSync(retired)) {
    if (runcvmContainersRunning()) {
      log(`  - Kept the previous package at ${retired}: running RunCVM containers still use it; remove it once they stop`)
    } else {
      rmSync(retired, { recursive: true, force: true })
    }
  }
  changes.push('package tree')
  log(`  - Installed ${src.length} entries to ${target}`)
  removeLeftovers(target, retired)
}

/** Earlier runs' retired trees (once no RunCVM container may use them) and dead runs' staging dirs. */
function removeLeftovers(target: string, keep?: string): void {
  const parent = dirname(target)
  const name = target.slice(parent.length + 1)
  const alive = (pid: string) => existsSync(`/proc/${pid}`)
  let inUse: boolean | undefined
  for (const entry of readdirSync(parent)) {
    const m = /^(.*)\.(old|new)-(\d+)$/.exec(entry)
    if (!m || m[1] !== name || join(parent, entry) === keep) continue
    if (m[2] === 'new' && alive(m[3])) continue // another installer is copying right now
    if (m[2] === 'old' && (inUse ??= runcvmContainersRunning())) continue
    rmSync(join(parent, entry), { recursive: true, force: true })
    log(`  - Removed leftover ${join(parent, entry)}`)
  }
}

/** Running containers bind-mount the old tree (by inode); deleting it would pull files from under their VMs. */
function runcvmContainersRunning(): boolean {
  const ps = onPath('docker') ? run('docker', ['ps', '-q']) : undefined
  if (!ps?.ok) return true // cannot tell: keep it
  const ids = ps.out.split('\n').filter(Boolean)
  if (!ids.length) return false
  return run('docker', ['inspect', '--format', '{{.HostConfig.Runtime}}', ...ids]).out.split('\n').includes('runcvm')
}

// --- daemon.json + dockerd ---
function registerRuntime(): boolean {
  log(`- Checking ${DAEMON_JSON} ...`)
  const text = existsSync(DAEMON_JSON) ? readFileSync(DAEMON_JSON, 'utf8') : ''
  const { text: next, changed } = mergeRuntime(text, RUNTIME_PATH, DAEMON_JSON)
  if (!changed) {
    log(`  - runtimes.runcvm.path is already ${RUNTIME_PATH}`)
    return false
  }
  mkdirSync(dirname(DAEMON_JSON), { recursive: true })
  const mode = existsSync(DAEMON_JSON) ? statSync(DAEMON_JSON).mode & 0o777 : 0o644
  writeFileAtomic(DAEMON_JSON, next, mode)
  changes.push('daemon.json')
  log(`  - ${text ? 'Added' : 'Created the file with'} runtimes.runcvm.path = ${RUNTIME_PATH}`)
  return true
}

function dockerdFacts(): DockerdFacts {
  const comm = (pid: string) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() } catch { return '' } }
  let dockerdPid: number | undefined
  try {
    const p = readFileSync('/var/run/docker.pid', 'utf8').trim()
    if (comm(p) === 'dockerd') dockerdPid = Number(p)
  } catch { /* no pid file */ }
  if (dockerdPid === undefined) {
    const p = readdirSync('/proc').find(d => /^\d+$/.test(d) && comm(d) === 'dockerd')
    if (p) dockerdPid = Number(p)
  }
  const pid1 = comm('1')
  const systemdActive = pid1 === 'systemd' && run('systemctl', ['is-active', '--quiet', 'docker']).ok
  return { pid1, systemdActive, dockerdPid }
}

function reloadDockerd(): void {
  const plan = planReload(dockerdFacts())
  log(`  - ${plan.says}`)
  if (plan.how !== 'none') changes.push('dockerd reloaded')
  if (plan.how === 'sighup') {
    process.kill(plan.pid, 'SIGHUP')
  } else if (plan.how === 'systemd') {
    const r = run(plan.cmd[0], plan.cmd.slice(1))
    if (!r.ok) {
      log(`    - reload failed (${r.err.trim()}); a restart is needed: ${plan.fallback.join(' ')}`)
      if (!ask('    - Restart dockerd now?')) { warn('    - Please restart dockerd yourself'); return }
      const r2 = run(plan.fallback[0], plan.fallback.slice(1))
      if (!r2.ok) throw new RunCvmError(`${plan.fallback.join(' ')} failed: ${r2.err.trim()}`)
    }
  }
}

function runtimeListed(): boolean {
  const r = run('docker', ['info', '--format', '{{json .Runtimes}}'])
  if (!r.ok) return false
  try { return (JSON.parse(r.out) as Record<string, { path?: string }> | null)?.runcvm?.path === RUNTIME_PATH } catch { return false }
}

async function verifyRuntime(): Promise<void> {
  const until = Date.now() + VERIFY_TIMEOUT_MS
  while (!runtimeListed()) {
    if (Date.now() > until) {
      throw new RunCvmError(`dockerd does not list the runcvm runtime ${VERIFY_TIMEOUT_MS / 1000}s after the reload`, { hint: 'Restart dockerd in the usual way for this system, then run `docker info` to check.' })
    }
    await new Promise(r => setTimeout(r, 300))
  }
  log(`  - Verified: docker info lists runtime runcvm (${RUNTIME_PATH})`)
}

// --- rp_filter ---
function checkRpFilter(): void {
  log('- Checking rp_filter ...')
  const read = (w: string) => { try { return readFileSync(PROC_RP(w), 'utf8') } catch { return undefined } }
  const plan = planRpFilter(read('all'), read('default'))
  if (plan.action !== 'fix') {
    (plan.action === 'unknown' ? warn : log)(`  - ${plan.action === 'unknown' ? 'Warning: ' : ''}${plan.message}`)
    return
  }
  log(`  - ${plan.message}`)
  // /proc/sys files cannot be renamed over: plain writes.
  writeFileSync(PROC_RP('all'), `${plan.write.all}\n`)
  writeFileSync(PROC_RP('default'), `${plan.write.default}\n`)
  changes.push('rp_filter')
  // Persist: patch strict settings where they are configured, else add our own drop-in.
  let pinned = false
  for (const f of sysctlFiles()) {
    const text = readFileSync(f, 'utf8')
    const { text: next, changed } = patchSysctlText(text)
    if (changed) { writeFileAtomic(f, next, statSync(f).mode & 0o777); log(`  - Patched ${f} (strict setting commented out, 2 added)`) }
    if (changed || text.includes(SYSCTL_MARK)) pinned = true
  }
  if (!pinned && !existsSync(SYSCTL_DROPIN)) {
    writeFileAtomic(SYSCTL_DROPIN, SYSCTL_DROPIN_TEXT)
    log(`  - Wrote ${SYSCTL_DROPIN} so the setting survives a reboot`)
  }
}
/** Regular sysctl files, symlinks resolved (Debian's sysctl.d/99-sysctl.conf -> ../sysctl.conf), each once. */
function sysctlFiles(): string[] {
  const out = new Set<string>()
  const add = (f: string) => { try { if (statSync(f).isFile()) out.add(realpathSync(f)) } catch { /* dangling or absent */ } }
  for (const p of SYSCTL_FILES) {
    try {
      if (statSync(p).isDirectory()) readdirSync(p).filter(n => n.endsWith('.conf')).forEach(n => add(join(p, n)))
      else add(p)
    } catch { /* absent */ }
  }
  return [...out]
}

async function main(): Promise<void> {
  if (argv.help) { console.log(USAGE); return }
  log('\nRunCVM Runtime Installer\n========================\n')
  if (process.getuid?.() !== 0) throw new ConfigError('runcvm-install-runtime must be run as root; relaunch it with sudo')
  if (opts.dockerd) {
    log('- Checking dockerd ...')
    if (!onPath('docker')) throw new ConfigError("the 'docker' client is not installed", { hint: 'Install docker (e.g. apt-get install docker.io), or pass --no-dockerd.' })
    if (!run('docker', ['info']).ok) throw new ConfigError('dockerd is not running; start it and try again (or pass --no-dockerd)')
    log('  - dockerd is running')
  } else {
    log("- Skipping dockerd checks (--no-dockerd)")
  }
  installTree()
  const changed = registerRuntime()
  if (opts.dockerd) {
    if (changed || !runtimeListed()) reloadDockerd()
    await verifyRuntime()
  }
  if (onPath('podman')) {
    log('- Detected podman. For experimental RunCVM support, add to the [engine.runtimes] section of')
    log('  /etc/containers/containers.conf:\n')
    log(`    runcvm = [ "${RUNTIME_PATH}" ]\n`)
  }
  checkRpFilter()
  log(changes.length
    ? `- RunCVM installation/upgrade complete (changed: ${changes.join(', ')}).\n`
    : '- RunCVM is already installed and registered: nothing changed.\n')
}

runRole(main)
