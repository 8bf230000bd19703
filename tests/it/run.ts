// tests/it/run.ts — RunCVM integration runner (upstream tests/run + framework.sh, in TypeScript).
//
// Discovers tests/it/<NN-name>/steps.ts (bundled by tests/run into dist/it/<NN-name>/steps.mjs),
// runs each case with a per-case timeout, removes what each case created (by its labels) after the
// case and at the end, even on failure or timeout, and at start the leftovers of runners that are
// gone (never the objects of a concurrent live runner), prints one PASS/FAIL/SKIP line
// per case with its duration and failure detail, and ends with the plain line
// `N passed, N failed` (`, N skipped` when something was skipped). Exit 1 when anything failed.
//
// Usage (normally through `bash tests/run`, which builds, installs and makes the images first):
//   node dist/it/run.mjs [filter ...] [--keep] [-j N] [--list] [--fast | --slow]
//     filter   case number (`3`, `03`) or substring of a case name (`env`); several = union
//     --keep   leave containers of every case up (per case: `keep: true` in steps.ts)
//     --fast   skip the slow cases (`slow: true`: systemd, nested Docker, several VMs); --slow: only those
//     -j N     run N cases at once (default 1: this machine has 2 cores and TCG boots use them)
// Env:
//   RUNCVM_TEST_RUNTIME   runtime under test (default runcvm; `runc` = harness self-test)
//   RUNCVM_TEST_TIMEOUT   default per-case timeout in seconds (default 180)
//   RUNCVM_TEST_NO_DEBIAN=1  the debian image is unavailable: skip cases that need it
//   RUNCVM_TEST_BUDGET    the whole test command's time budget in seconds (default 5400) and
//   RUNCVM_TEST_T0        its start (Unix seconds; default: this runner's start): a case with
//                         `budgetShare` is skipped once more than that share of the budget is used
import { ctrMissing } from './ctr'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import minimist from 'minimist'
import { type Case, AssertionError, docker, makeCtx, removeByLabel, removeStale, CASE_LABEL, RUN_LABEL, RUN_ID } from './harness'

const HERE = dirname(fileURLToPath(import.meta.url)) // dist/it (bundled) — cases sit beside us
const DEFAULT_TIMEOUT_MS = Number(process.env.RUNCVM_TEST_TIMEOUT ?? 180) * 1000
const RUNTIME = process.env.RUNCVM_TEST_RUNTIME || 'runcvm'
const STARTED_MS = Date.now()

/** The test command's time budget (cases with `budgetShare`): its start and length, from the env. */
function budget(): { t0Ms: number; seconds: number } {
  const num = (name: string, dflt: number): number => {
    const v = process.env[name]
    if (v === undefined || v === '') return dflt
    if (!/^[1-9]\d{0,9}$/.test(v)) throw new Error(`${name}=${JSON.stringify(v)}: expected a positive whole number of seconds`)
    return Number(v)
  }
  const t0 = num('RUNCVM_TEST_T0', 0)
  return { t0Ms: t0 ? t0 * 1000 : STARTED_MS, seconds: num('RUNCVM_TEST_BUDGET', 5400) }
}

interface Outcome { name: string; status: 'PASS' | 'FAIL' | 'SKIP'; ms: number; detail?: string; notes: string[] }

function discover(): string[] {
  return readdirSync(HERE, { withFileTypes: true })
    .filter(d => d.isDirectory() && /^\d\d-/.test(d.name) && existsSync(join(HERE, d.name, 'steps.mjs')))
    .map(d => d.name)
    .sort()
}

const onPath = (bin: string): boolean => (process.env.PATH ?? '').split(delimiter).some(d => d !== '' && existsSync(join(d, bin)))

/** Why the case cannot run here, from its declared needs and the tier asked for (a case never skips parts of itself). */
async function skipReason(c: Case, tier: 'all' | 'fast' | 'slow'): Promise<string | undefined> {
  if (tier === 'fast' && c.slow) return 'slow case (--fast)'
  if (tier === 'slow' && !c.slow) return 'not a slow case (--slow)'
  if (c.budgetShare !== undefined) {
    const b = budget(), used = Math.round((Date.now() - b.t0Ms) / 1000)
    if (used > c.budgetShare * b.seconds)
      return `time budget: the test command has used ${used} s of its ${b.seconds} s (RUNCVM_TEST_BUDGET), more than this case's ${Math.round(c.budgetShare * 100)}% share`
  }
  for (const need of c.needs ?? []) {
    if (need === 'runcvm' && RUNTIME === 'runc') return 'asserts VM-only behaviour; runtime under test is runc'
    if (need === 'debian' && process.env.RUNCVM_TEST_NO_DEBIAN === '1') return 'runcvm-test/debian image unavailable'
    if (need === 'script' && !onPath('script')) return 'script(1) (util-linux) not on PATH: its tty checks need a pty for the docker client'
    if (need === 'ctr') { const why = ctrMissing() ?? (onPath('ctr') ? undefined : 'ctr not on PATH'); if (why) return why }
    if (need === 'podman' && !onPath('podman')) return 'podman not on PATH (apt-get install podman)'
    if (need.startsWith('image:') && (await docker(['image', 'inspect', need.slice(6)])).code !== 0)
      return `image ${need.slice(6)} missing (tests/it/images/build.sh could not build it)`
  }
  return undefined
}

/** Removes this run's objects of one case (several label filters AND together). */
async function removeCase(name: string): Promise<void> {
  const filters = ['--filter', `label=${RUN_LABEL}=${RUN_ID}`, '--filter', `label=${CASE_LABEL}=${name}`]
  const ids = async (kind: string[]) => (await docker([...kind, '-q', ...filters])).stdout.split('\n').filter(Boolean)
  const cs = await ids(['ps', '-a'])
  if (cs.length) await docker(['rm', '-f', '-v', ...cs])
  const nets = await ids(['network', 'ls'])
  if (nets.length) await docker(['network', 'rm', ...nets])
  const vols = await ids(['volume', 'ls'])
  if (vols.length) await docker(['volume', 'rm', '-f', ...vols])
}

async function loadCase(name: string): Promise<Case> {
  return (await import(pathToFileURL(join(HERE, name, 'steps.mjs')).href)).default as Case
}

async function runCase(name: string, keepAll: boolean, tier: 'all' | 'fast' | 'slow'): Promise<Outcome> {
  const notes: string[] = []
  const t0 = performance.now()
  const ms = () => performance.now() - t0
  let c: Case
  try {
    c = await loadCase(name)
  } catch (e) {
    return { name, status: 'FAIL', ms: ms(), detail: `cannot load steps: ${(e as Error).message}`, notes }
  }
  const why = await skipReason(c, tier)
  if (why) return { name, status: 'SKIP', ms: 0, detail: why, notes }

  const ac = new AbortController()
  const ctx = makeCtx(name, RUNTIME, ac.signal, notes)
  const limit = c.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => { ac.abort(); rej(new AssertionError(`timed out after ${limit / 1000}s (case timeout; set timeoutMs in steps.ts or RUNCVM_TEST_TIMEOUT)`)) }, limit)
  })
  let detail: string | undefined
  try {
    await Promise.race([(async () => { await c.setup?.(ctx); await c.test(ctx) })(), timeout])
  } catch (e) {
    detail = (e as Error)?.name === 'AssertionError' ? (e as Error).message : (e as Error)?.stack ?? String(e)
  } finally {
    clearTimeout(timer)
  }
  // finish runs even after a failure (it may collect diagnostics); its own failure only counts
  // when the test itself passed.
  try {
    await c.finish?.(ctx)
  } catch (e) {
    detail ??= `finish: ${(e as Error).message}`
  }
  if (c.keep || keepAll) notes.push(`kept: docker ps -a --filter label=${CASE_LABEL}=${name} --filter label=${RUN_LABEL}=${RUN_ID}`)
  else await removeCase(name)
  return { name, status: detail ? 'FAIL' : 'PASS', ms: ms(), detail, notes }
}

function report(o: Outcome): void {
  const secs = `${(o.ms / 1000).toFixed(1)}s`
  const head = o.status === 'SKIP' ? `SKIP ${o.name} (${o.detail})` : `${o.status} ${o.name} (${secs})`
  const lines = [head, ...o.notes.map(n => `    ${n}`)]
  if (o.status === 'FAIL' && o.detail) lines.push(...o.detail.split('\n').map(l => `    ${l}`))
  console.log(lines.join('\n'))
}

async function main(): Promise<number> {
  const args = minimist(process.argv.slice(2), { boolean: ['keep', 'list', 'fast', 'slow'], string: ['j', '_'], alias: { j: 'jobs' } })
  if (args.fast && args.slow) { console.log('--fast and --slow exclude each other'); return 2 }
  const tier = args.fast ? 'fast' : args.slow ? 'slow' : 'all'
  try { budget() } catch (e) { console.log((e as Error).message); return 2 }
  const filters = args._.map(String)
  const jobs = Math.max(1, Number(args.j ?? 1) || 1)
  const all = discover()
  // A numeric filter selects by case number (`3` or `03` → 03-env); anything else is a substring.
  const match = (n: string, f: string) => /^\d+$/.test(f) ? n.startsWith(`${f.padStart(2, '0')}-`) : n.includes(f)
  const picked = filters.length ? all.filter(n => filters.some(f => match(n, f))) : all
  // Slow cases last, so a run shows the quick verdicts first.
  const slow = new Set<string>()
  for (const n of picked) if ((await loadCase(n).catch(() => undefined))?.slow) slow.add(n)
  const names = [...picked.filter(n => !slow.has(n)), ...picked.filter(n => slow.has(n))]
  if (args.list) { names.forEach(n => console.log(slow.has(n) ? `${n} [slow]` : n)); return 0 }
  if (!names.length) { console.log(`no case matches ${filters.join(' ')} (have: ${all.join(' ')})`); return 1 }

  const stale = await removeStale()
  if (stale.length) console.log(`removed ${stale.length} leftover test object(s) of runners that are gone`)
  console.log(`runtime under test: ${RUNTIME}; ${names.length} case(s); -j ${jobs}`)

  const outcomes: Outcome[] = []
  const queue = [...names]
  const onSignal = () => { void removeByLabel().finally(() => process.exit(130)) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, async () => {
    for (let n = queue.shift(); n; n = queue.shift()) {
      const o = await runCase(n, Boolean(args.keep), tier)
      report(o)
      outcomes.push(o)
    }
  }))
  if (!args.keep) await removeByLabel()

  const count = (s: Outcome['status']) => outcomes.filter(o => o.status === s).length
  const failed = count('FAIL'), skipped = count('SKIP')
  console.log(`${count('PASS')} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  return failed ? 1 : 0
}

main().then(code => process.exit(code), e => { console.error(`runner error: ${(e as Error).stack ?? e}`); process.exit(2) })
