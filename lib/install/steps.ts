// The installer's actions on the host. Each one reads what it needs, asks a pure planner what to
// do, applies it (unless dryRun) and returns what it changed (or would change) and what it found:
// the script only prints the result. File writes go through host-files.ts (exclusive creation,
// refusal of planted files); program runs through host.ts (zx/core).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { ConfigError, RunCvmError } from '../errors.js'
import { mergeRuntime } from './daemon-json.js'
import { planReload, type DockerdFacts } from './dockerd.js'
import { checkTrustedDir, createExclusive, describeKind, readRegular, RefusedError, replaceFile, resolveEditable, type Owner } from './host-files.js'
import { patchSysctlText, planRpFilter, SYSCTL_DROPIN_TEXT, SYSCTL_MARK } from './rp-filter.js'
import { copyTree, hashFile, readTree } from './tree-io.js'
import { describeDiff, diffTrees, isIdentical, planLeftovers, retiredPrefix, stagingPrefix } from './tree-sync.js'

/** One change on the host: the path (or thing) and what happened to it. */
export interface Change { path: string; what: string }

export interface StepResult {
  /** What the step changed (dry run: would change), in order. */
  changes: Change[]
  /** What the user should read, in order: findings, and each change in words. */
  lines: string[]
  /** Problems the user should act on (the script prints them to stderr). */
  warnings: string[]
}

const newResult = (): StepResult => ({ changes: [], lines: [], warnings: [] })
/** `would <verb>` in a dry run, else the past tense. */
const would = (dryRun: boolean | undefined, verb: string, past: string) => (dryRun ? `would ${verb}` : past)

// --- package tree -----------------------------------------------------------------------------

export interface TreeOpts {
  /** Package tree to install (e.g. dist/opt/runcvm). */
  from: string
  /** Where it goes (/opt/runcvm). */
  target: string
  owner: Owner
  dryRun?: boolean
  /** Whether running RunCVM containers may still use a retired tree (asked only when one exists). */
  retiredInUse: () => Promise<boolean>
  /** Whether an installer pid is alive (its staging directory is in use). */
  alive: (pid: number) => boolean
  pid?: number
}

/**
 * Install `from` at `target`: compare, and when anything differs copy the whole tree to a fresh
 * staging directory beside the target (owned by `owner`, no group/other write anywhere) and swap
 * it in with two renames. The previous tree is removed unless containers may still use it.
 * Leftovers of earlier runs are removed when safe. A target that is not a real directory of ours
 * (a symlink, a file, a FIFO, someone else's directory) is refused.
 */
export async function installTree(o: TreeOpts): Promise<StepResult> {
  const r = newResult()
  const { from, target } = o
  const pid = o.pid ?? process.pid
  if (existsSync(target) && existsSync(from) && realpathSync(from) === realpathSync(target)) {
    r.lines.push(`Running from ${target} itself; no package to copy`)
    return r
  }
  if (!existsSync(join(from, 'scripts', 'runcvm-runtime'))) {
    throw new ConfigError(`${from} does not look like a RunCVM package (no scripts/runcvm-runtime)`, { hint: 'Pass --from <dir>, e.g. --from dist/opt/runcvm after `node build.mjs`.' })
  }
  const parent = dirname(target)
  if (!existsSync(parent)) {
    if (!o.dryRun) mkdirSync(parent, { recursive: true, mode: 0o755 })
    r.changes.push({ path: parent, what: 'created' })
    r.lines.push(`${would(o.dryRun, 'create', 'created')} ${parent}`)
  } else {
    checkTrustedDir(parent, o.owner, target)
  }
  let st
  try { st = lstatSync(target) } catch { /* fresh install */ }
  if (st && !st.isDirectory()) throw new RefusedError(target, `it is ${describeKind(st)}${st.isSymbolicLink() ? ' (RunCVM installs a real directory there; remove the link first)' : ''}`)
  if (st && st.uid !== o.owner.uid) throw new RefusedError(target, `it is a directory owned by uid ${st.uid}, not ${o.owner.uid}`)

  let inUse: boolean | undefined
  const retiredInUse = async () => (inUse ??= await o.retiredInUse())
  const src = readTree(from)
  const diff = diffTrees(src, readTree(target), p => hashFile(join(from, p)) === hashFile(join(target, p)), o.owner)
  if (isIdentical(diff)) {
    r.lines.push(`${target} already up to date (${src.length} entries compared); nothing changed`)
  } else {
    const what = st ? describeDiff(diff) : `fresh install of ${src.length} entries`
    r.changes.push({ path: target, what })
    if (o.dryRun) {
      r.lines.push(`would install ${from} at ${target}: ${what}`)
    } else {
      const staging = mkdtempSync(stagingPrefix(target, pid))
      try {
        copyTree(from, staging, src, o.owner)
      } catch (e) {
        rmSync(staging, { recursive: true, force: true })
        throw new RunCvmError(`copying the package to ${staging} failed (${(e as Error).message}); ${target} was not touched`, { cause: e })
      }
      // Two renames: the window without a target is microseconds, and never shows a half tree.
      // The retired name is an empty directory made by mkdtemp, which rename(2) replaces atomically.
      const retired = st ? mkdtempSync(retiredPrefix(target, pid)) : undefined
      if (retired) renameSync(target, retired)
      try {
        renameSync(staging, target)
      } catch (e) {
        if (retired) renameSync(retired, target)
        rmSync(staging, { recursive: true, force: true })
        throw new RunCvmError(`moving the new package into ${target} failed (${(e as Error).message}); the previous one was put back`, { cause: e })
      }
      r.lines.push(`installed ${src.length} entries at ${target} (${what})`)
      if (retired) {
        if (await retiredInUse()) r.lines.push(`kept the previous package at ${retired}: running RunCVM containers still use it; a later run removes it once they stop`)
        else rmSync(retired, { recursive: true, force: true })
      }
    }
  }
  await removeLeftovers(o, r, retiredInUse)
  return r
}

/** Earlier runs' retired trees (once no RunCVM container may use them) and dead runs' staging dirs. */
async function removeLeftovers(o: TreeOpts, r: StepResult, retiredInUse: () => Promise<boolean>): Promise<void> {
  const parent = dirname(o.target)
  if (!existsSync(parent)) return
  const name = basename(o.target)
  const entries = readdirSync(parent).filter(n => n.startsWith(`${name}.`)).map(n => {
    const st = lstatSync(join(parent, n))
    return { name: n, isDir: st.isDirectory(), uid: st.uid }
  })
  // Ask docker only when a retired tree of ours is there to decide about.
  const anyRetired = entries.some(e => e.isDir && e.uid === o.owner.uid && e.name.startsWith(`${name}.old-`))
  const plan = planLeftovers(name, entries, o.owner.uid, o.alive, anyRetired && await retiredInUse())
  for (const k of plan.keep) if (k.why.startsWith('not a directory')) r.warnings.push(`left ${join(parent, k.name)} alone: ${k.why}`)
  for (const n of plan.remove) {
    if (!o.dryRun) rmSync(join(parent, n), { recursive: true, force: true })
    r.changes.push({ path: join(parent, n), what: `${would(o.dryRun, 'remove', 'removed')} (leftover of an earlier run)` })
    r.lines.push(`${would(o.dryRun, 'remove', 'removed')} leftover ${join(parent, n)}`)
  }
}

// --- daemon.json -----------------------------------------------------------------------------

export interface DaemonJsonOpts {
  /** /etc/docker/daemon.json */
  file: string
  runtimePath: string
  owner: Owner
  dryRun?: boolean
  /** Backup timestamp (default now). */
  now?: Date
  /** Temp name for the new file (tests plant files there). */
  tempName?: string
}

/** `<file>.runcvm-backup-<UTC timestamp>`, e.g. daemon.json.runcvm-backup-20261130T161502Z. */
export const backupName = (file: string, now: Date): string =>
  `${file}.runcvm-backup-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`

/**
 * Set runtimes.runcvm.path in daemon.json, keeping everything else. Before changing an existing
 * file its previous bytes are kept in an exclusively created backup beside the file that really
 * changes (same mode). A symlinked daemon.json is updated through its target; anything that is
 * not a regular file of ours is refused (resolveEditable). Malformed JSON is reported, untouched.
 */
export function registerRuntime(o: DaemonJsonOpts): StepResult {
  const r = newResult()
  const dir = dirname(o.file)
  if (!existsSync(dir)) {
    if (!o.dryRun) mkdirSync(dir, { recursive: true, mode: 0o755 })
    r.changes.push({ path: dir, what: 'created' })
    r.lines.push(`${would(o.dryRun, 'create', 'created')} ${dir}`)
    if (o.dryRun) {
      r.changes.push({ path: o.file, what: `created with runtimes.runcvm.path = ${o.runtimePath}` })
      r.lines.push(`would create ${o.file} with runtimes.runcvm.path = ${o.runtimePath}`)
      return r
    }
  }
  const t = resolveEditable(o.file, o.owner)
  const old = t.stat ? readRegular(t.path, t.stat) : undefined
  const { text: next, changed } = mergeRuntime(old ?? '', o.runtimePath, o.file)
  if (!changed) {
    r.lines.push(`runtimes.runcvm.path is already ${o.runtimePath}`)
    return r
  }
  const via = t.via ? ` (through the symlink ${o.file})` : ''
  if (t.stat && old !== undefined) {
    const backup = backupName(t.path, o.now ?? new Date())
    if (!o.dryRun) createExclusive(backup, old, t.stat.mode & 0o7777)
    r.changes.push({ path: backup, what: `backup of the previous ${basename(t.path)}` })
    r.lines.push(`${would(o.dryRun, 'keep', 'kept')} the previous file as ${backup}`)
  }
  if (!o.dryRun) replaceFile(t, next, { tempName: o.tempName })
  const what = `${t.stat ? 'set' : 'created with'} runtimes.runcvm.path = ${o.runtimePath}${via}`
  r.changes.push({ path: t.path, what })
  r.lines.push(`${o.dryRun ? 'would have ' : ''}${t.path}: ${what}`)
  return r
}

// --- dockerd ---------------------------------------------------------------------------------

export interface ReloadOpts {
  facts: DockerdFacts
  dryRun?: boolean
  /** Run a program (host.ts runProgram). */
  run: (argv: readonly string[]) => Promise<{ ok: boolean; err: string }>
  /** Ask before a restart (the only disruptive fallback). */
  confirm: (question: string) => Promise<boolean>
  signal?: (pid: number) => void
}

/** Make a running dockerd re-read daemon.json: systemctl reload, else SIGHUP; restart only if allowed. */
export async function reloadDockerd(o: ReloadOpts): Promise<StepResult> {
  const r = newResult()
  const plan = planReload(o.facts)
  r.lines.push(plan.says)
  if (plan.how === 'none') return r
  if (o.dryRun) {
    r.changes.push({ path: 'dockerd', what: 'would be reloaded' })
    return r
  }
  if (plan.how === 'sighup') {
    ;(o.signal ?? (pid => process.kill(pid, 'SIGHUP')))(plan.pid)
    r.changes.push({ path: `dockerd (pid ${plan.pid})`, what: 'reloaded (SIGHUP)' })
    return r
  }
  const rel = await o.run(plan.cmd)
  if (rel.ok) {
    r.changes.push({ path: 'dockerd', what: `reloaded (${plan.cmd.join(' ')})` })
    return r
  }
  r.lines.push(`reload failed (${rel.err}); a restart is needed: ${plan.fallback.join(' ')}`)
  if (!(await o.confirm('Restart dockerd now?'))) {
    r.warnings.push('Please restart dockerd yourself')
    return r
  }
  const res = await o.run(plan.fallback)
  if (!res.ok) throw new RunCvmError(`${plan.fallback.join(' ')} failed: ${res.err}`)
  r.changes.push({ path: 'dockerd', what: `restarted (${plan.fallback.join(' ')})` })
  return r
}

// --- rp_filter -------------------------------------------------------------------------------

export interface RpFilterOpts {
  /** Directory holding all/rp_filter and default/rp_filter (/proc/sys/net/ipv4/conf). */
  procConf: string
  /** Change the host's values (--set-rp-filter); without it: check and explain only. */
  set: boolean
  /** Sysctl files that may pin the values (/etc/sysctl.conf, /etc/sysctl.d/*.conf). */
  sysctlFiles: string[]
  /** Our drop-in (/etc/sysctl.d/99-runcvm-rp-filter.conf). */
  dropIn: string
  owner: Owner
  dryRun?: boolean
}

/** /etc/sysctl.conf and the *.conf names in /etc/sysctl.d (what `sysctl --system` reads here). */
export function listSysctlFiles(conf = '/etc/sysctl.conf', dir = '/etc/sysctl.d'): string[] {
  let names: string[] = []
  try { names = readdirSync(dir).filter(n => n.endsWith('.conf')).sort().map(n => join(dir, n)) } catch { /* absent */ }
  return [conf, ...names]
}

/**
 * Check the host's rp_filter. Without `set` this only reads /proc and explains (planRpFilter);
 * with it, it writes both /proc values and persists them: strict lines in sysctl files of ours are
 * commented out and followed by loose ones, else our drop-in is created. Files it may not edit
 * (see resolveEditable) are reported and left alone.
 */
export function checkRpFilter(o: RpFilterOpts): StepResult {
  const r = newResult()
  const read = (w: string) => { try { return readRegular(join(o.procConf, w, 'rp_filter')) } catch { return undefined } }
  const plan = planRpFilter(read('all'), read('default'), o.set)
  if (plan.action === 'unknown') { r.warnings.push(`Warning: ${plan.message}`); return r }
  r.lines.push(plan.message)
  if (plan.action !== 'fix') return r
  for (const w of ['all', 'default'] as const) {
    const f = join(o.procConf, w, 'rp_filter')
    if (!o.dryRun) writeFileSync(f, `${plan.write[w]}\n`) // a /proc/sys file: rewritten in place
    r.changes.push({ path: f, what: `${would(o.dryRun, 'set', 'set')} to ${plan.write[w]}` })
  }
  // Persist: patch strict settings where they are configured, else add our own drop-in.
  let pinned = false
  const seen = new Set<string>()
  for (const name of o.sysctlFiles) {
    if (!existsSync(name) && !isLink(name)) continue
    let t
    try {
      t = resolveEditable(name, o.owner)
    } catch (e) {
      if (e instanceof RefusedError) { r.warnings.push(`not edited: ${e.message}`); continue }
      throw e
    }
    if (!t.stat || seen.has(t.path)) continue
    seen.add(t.path)
    let text: string
    try { text = readRegular(t.path, t.stat) } catch (e) { r.warnings.push(`not edited: ${(e as Error).message}`); continue }
    const { text: next, changed } = patchSysctlText(text)
    if (changed) {
      if (!o.dryRun) replaceFile(t, next)
      r.changes.push({ path: t.path, what: `${would(o.dryRun, 'comment out', 'commented out')} strict rp_filter lines and ${o.dryRun ? 'add' : 'added'} loose ones` })
    }
    if (changed || text.includes(SYSCTL_MARK) || t.path === o.dropIn) pinned = true
  }
  if (!pinned) {
    try {
      const t = resolveEditable(o.dropIn, o.owner)
      if (t.stat) throw new RefusedError(o.dropIn, 'a file of that name exists but was not among the sysctl files read')
      if (!o.dryRun) replaceFile(t, SYSCTL_DROPIN_TEXT)
      r.changes.push({ path: o.dropIn, what: `${would(o.dryRun, 'write', 'written with')} loose rp_filter settings so they survive a reboot` })
    } catch (e) {
      if (!(e instanceof RefusedError)) throw e
      r.warnings.push(`not persisted: ${e.message}`)
    }
  }
  for (const c of r.changes) r.lines.push(`${c.path}: ${c.what}`)
  return r
}

const isLink = (p: string): boolean => { try { return lstatSync(p).isSymbolicLink() } catch { return false } }
