// tests/it/harness.ts — what every integration case gets: docker wrappers that capture stdout,
// stderr and the exit code separately (never throw on a non-zero exit), the runtime under test,
// log waiting, timing and small assertions with readable failure text.
//
// Cases are prisma-e2e shaped: tests/it/<NN-name>/steps.ts default-exports a `Case`
// = {setup?, test, finish?, keep?, needs?, timeoutMs?}. Everything a case creates carries the
// labels `runcvm-test=1`, `runcvm-test.run=<runner pid>` and `runcvm-test.case=<name>` (use
// `ctx.labels`), so the runner can remove it by label even after a crash or timeout.
import { spawn } from 'node:child_process'
import { $ } from 'zx/core'

/** Label on every container/network/volume the integration tests create. */
export const LABEL = 'runcvm-test=1'
export const CASE_LABEL = 'runcvm-test.case'
/**
 * Several runners may share one dockerd (engineers, CI): each run labels its objects with its own
 * id (the runner's pid) and only ever removes its own, plus leftovers of runners that are gone.
 */
export const RUN_LABEL = 'runcvm-test.run'
export const RUN_ID = String(process.pid)

/** Result of one docker CLI call. `code` is the exit status (128+N if docker itself was signalled). */
export interface Res {
  stdout: string
  stderr: string
  code: number
  ms: number
  argv: readonly string[]
  /** The program run, when it is not the docker client (e.g. ctr, podman). */
  program?: string
}


/** Capabilities a case may require; the runner skips the case (with the reason) when absent. */
export type Need =
  | 'runcvm' // asserts VM-only behaviour (guest CPUs/memory, RunCVM errors): skipped when the runtime under test is runc
  | 'debian' // needs the runcvm-test/debian image (debootstrap); skipped if it could not be built
  | 'script' // drives the docker client through a pty from util-linux script(1); skipped when it is not on PATH
  | 'ctr' // containerd's socket (Docker's own), ctr and Debian's CNI plugins (tests/it/ctr.ts)
  | 'podman' // Debian's podman (rootful)
  | `image:${string}` // needs this local image (tests/it/images/build.sh); skipped when it is missing

export interface Ctx {
  /** Case directory name, e.g. `04-exit-codes`. */
  name: string
  /** Runtime under test: `runcvm` normally, `runc` when RUNCVM_TEST_RUNTIME=runc (harness self-test). */
  runtime: string
  /** True when the runtime under test really boots VMs. */
  isVm: boolean
  /**
   * Extra `docker run` flags that make a runc container behave like a VM for signal tests: in a VM
   * the workload is never PID 1 of its PID namespace (the guest has its own init), so SIGTERM/SIGKILL
   * sent to it take effect. Under runc a PID-1 workload ignores signals it has no handler for, so
   * the runc equivalent is `--init`. Empty for runcvm.
   */
  pid1Like: string[]
  /** Labels (as `--label k=v` argv) for anything the case creates itself. */
  labels: string[]
  /** Unique name for a container/network this case creates. */
  uniq(tag?: string): string
  /** `docker <args>`; never throws on a non-zero exit. */
  docker(args: readonly string[], opts?: DockerOpts): Promise<Res>
  /** `docker run --rm --pull=never --runtime=<runtime under test> --label … <args>`. */
  runcvm(args: readonly string[], opts?: DockerOpts): Promise<Res>
  /** The same with runc (Docker's default runtime): the reference behaviour. */
  runc(args: readonly string[], opts?: DockerOpts): Promise<Res>
  /** Polls `docker logs` until `re` matches stdout+stderr; throws on timeout or container exit. */
  waitForLog(container: string, re: RegExp, timeoutMs?: number): Promise<Res>
  /** Adds a line printed under the case's PASS/FAIL line (numbers worth reporting). */
  note(msg: string): void
  /** Aborted when the case times out; docker child processes are killed through it. */
  signal: AbortSignal
}

export interface DockerOpts {
  input?: string
  timeoutMs?: number
}

export interface Case {
  /** One line: what the case proves. */
  description: string
  needs?: Need[]
  /** Per-case limit (default 180 s: a few TCG boots). */
  timeoutMs?: number
  /**
   * Minutes of TCG work (systemd boots, nested dockerd, several VMs): run after the other cases;
   * `tests/run --fast` skips it (with a SKIP line), `--slow` runs only such cases. CI runs all.
   */
  slow?: boolean
  /**
   * Time-budget guard for a long case: SKIP it (with the reason, never a silent pass) when the test
   * command has already used more than this share (0-1) of its budget, so one long case cannot push
   * a run past its limit. Budget: RUNCVM_TEST_BUDGET seconds (default 5400, CI's 90-minute limit),
   * counted from RUNCVM_TEST_T0 (Unix seconds; `tests/all` sets it at its start, else the runner's
   * own start).
   */
  budgetShare?: number
  /** Leave containers up after the case for debugging (also `tests/run --keep`). */
  keep?: boolean
  setup?(ctx: Ctx): Promise<void>
  test(ctx: Ctx): Promise<void>
  finish?(ctx: Ctx): Promise<void>
}

export class AssertionError extends Error {
  // Checked by name, not instanceof: a case bundle may carry its own copy of this class.
  override name = 'AssertionError'
}

export function fail(msg: string): never {
  throw new AssertionError(msg)
}

/** JSON-ish rendering that shows whitespace and newlines exactly. */
export const show = (v: unknown): string => JSON.stringify(v)

export function eq<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`)
}

export function ok(cond: unknown, what: string): asserts cond {
  if (!cond) fail(what)
}

/** Line diff for two multi-line outputs (lines only on one side). */
export function lineDiff(a: string, b: string, la = 'runcvm', lb = 'runc'): string {
  const A = a.split('\n'), B = b.split('\n')
  const onlyA = A.filter(l => !B.includes(l)), onlyB = B.filter(l => !A.includes(l))
  return [...onlyA.map(l => `  only ${la}: ${show(l)}`), ...onlyB.map(l => `  only ${lb}: ${show(l)}`)].join('\n')
}

/** One-line summary of a docker call for failure messages. */
export function describe(r: Res): string {
  // Drop the harness's own boilerplate (labels, --rm, --pull=never) so the interesting flags show.
  const argv = r.argv.filter((a, i) => a !== '--label' && r.argv[i - 1] !== '--label' && a !== '--rm' && a !== '--pull=never')
  return `\`${r.program ?? 'docker'} ${argv.map(a => /^[\w@%+=:,./-]+$/.test(a) ? a : show(a)).join(' ')}\` → exit ${r.code} in ${(r.ms / 1000).toFixed(1)}s; stdout=${show(r.stdout)} stderr=${show(r.stderr)}`
}

/**
 * When outputs differ, says whether they are equal apart from CRLF line endings (a VM console in
 * tty mode turning "\n" into "\r\n") or apart from stderr having been merged into stdout, so a
 * report separates stdio plumbing from real behaviour differences.
 */
export function stdioHint(sub: Res, ref: Res): string {
  const nocr = (x: string) => x.replace(/\r\n/g, '\n')
  const hints: string[] = []
  if (sub.stdout.includes('\r\n') && !ref.stdout.includes('\r\n')) hints.push('subject stdout has CRLF line endings')
  const [so, se] = [nocr(sub.stdout), nocr(sub.stderr)]
  if (so === ref.stdout && se === ref.stderr) hints.push('equal apart from CRLF')
  else if (se === '' && ref.stderr !== '' && so.split('\n').sort().join('\n') === (ref.stdout + ref.stderr).split('\n').sort().join('\n'))
    hints.push("equal apart from CRLF and stderr merged into stdout")
  return hints.length ? ` [${hints.join('; ')}]` : ''
}

/** Asserts stdout, stderr and exit code of `sub` equal those of `ref` (the runc reference). */
export function sameAs(sub: Res, ref: Res, what: string): void {
  if (sub.code !== ref.code || sub.stdout !== ref.stdout || sub.stderr !== ref.stderr) {
    fail(`${what}: differs from runc${stdioHint(sub, ref)}\n  subject:   ${describe(sub)}\n  reference: ${describe(ref)}` +
      (sub.stdout !== ref.stdout ? `\n${lineDiff(sub.stdout, ref.stdout)}` : ''))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const v = await fn()
  return [v, performance.now() - t0]
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Runs `docker <args>` with zx (argv array: every element quoted, no shell string). */
export async function docker(args: readonly string[], opts: DockerOpts & { signal?: AbortSignal } = {}): Promise<Res> {
  const t0 = performance.now()
  const p = $({
    quiet: true,
    nothrow: true,
    input: opts.input,
    signal: opts.signal,
    timeout: opts.timeoutMs,
  })`docker ${args}`
  const out = await p
  return {
    stdout: out.stdout,
    stderr: out.stderr,
    code: out.exitCode ?? (out.signal ? 128 + signalNumber(out.signal) : -1),
    ms: performance.now() - t0,
    argv: args,
  }
}

function signalNumber(sig: string): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
  return table[sig] ?? 0
}

/** Removes every container, network and volume carrying `label` (default: everything of this run). */
export async function removeByLabel(label = `${RUN_LABEL}=${RUN_ID}`): Promise<string[]> {
  return removeWhere(label, () => true)
}

/**
 * Removes test objects (label runcvm-test=1) left by runners that no longer exist: no run label,
 * or a run label naming a pid that is not alive. Objects of live concurrent runners are kept.
 */
export async function removeStale(): Promise<string[]> {
  // No run label = made by an older runner version: remove only if not running (a live old-style
  // runner may still be using it; in-use networks/volumes refuse removal anyway).
  return removeWhere(LABEL, (run, running) => run ? !alive(Number(run)) : !running)
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

async function removeWhere(label: string, pick: (run: string, running: boolean) => boolean): Promise<string[]> {
  // `{{.State}}` exists for containers only; networks/volumes print an empty field (= not running).
  const list = async (kind: string[], id: string, state = '') =>
    (await docker([...kind, '--filter', `label=${label}`, '--format', `${id} ${state}|{{.Label "${RUN_LABEL}"}}`])).stdout
      .split('\n').filter(Boolean).map(l => /^(\S+) (\S*)\|(.*)$/.exec(l)).filter(m => m !== null)
      .filter(m => pick(m[3], m[2] === 'running')).map(m => m[1])
  const removed: string[] = []
  const ids = await list(['ps', '-a'], '{{.ID}}', '{{.State}}')
  if (ids.length) { await docker(['rm', '-f', '-v', ...ids]); removed.push(...ids.map(i => `container ${i}`)) }
  const nets = await list(['network', 'ls'], '{{.ID}}')
  if (nets.length) { await docker(['network', 'rm', ...nets]); removed.push(...nets.map(n => `network ${n}`)) }
  const vols = await list(['volume', 'ls'], '{{.Name}}')
  if (vols.length) { await docker(['volume', 'rm', '-f', ...vols]); removed.push(...vols.map(v => `volume ${v}`)) }
  return removed
}

/** `docker run -d` (runtime given) of a long-running container; fails the case if it does not start. */
export async function startDetached(ctx: Ctx, runtime: string, name: string, args: string[]): Promise<void> {
  const r = await ctx.docker(['run', '-d', '--pull=never', `--runtime=${runtime}`, '--name', name, ...ctx.labels, ...args])
  if (r.code !== 0) fail(`docker run -d ${name}: ${describe(r)}`)
}

export function makeCtx(name: string, runtime: string, signal: AbortSignal, notes: string[]): Ctx {
  const labels = ['--label', LABEL, '--label', `${RUN_LABEL}=${RUN_ID}`, '--label', `${CASE_LABEL}=${name}`]
  let n = 0
  const d = (args: readonly string[], opts: DockerOpts = {}) => docker(args, { ...opts, signal })
  const run = (rt: string) => async (args: readonly string[], opts?: DockerOpts) =>
    d(['run', '--rm', '--pull=never', `--runtime=${rt}`, ...labels, ...args], opts)
  const ctx: Ctx = {
    name,
    runtime,
    isVm: runtime !== 'runc',
    pid1Like: runtime === 'runc' ? ['--init'] : [],
    labels,
    uniq: (tag = 'c') => `runcvm-test-${name}-${tag}-${process.pid}-${++n}`,
    docker: d,
    runcvm: run(runtime),
    runc: run('runc'),
    async waitForLog(container, re, timeoutMs = 60_000) {
      const t0 = Date.now()
      for (;;) {
        const logs = await d(['logs', container])
        if (re.test(logs.stdout + logs.stderr)) return logs
        const st = await d(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', container])
        if (st.code !== 0 || !st.stdout.startsWith('running'))
          fail(`${container} is not running (${st.stdout.trim() || st.stderr.trim()}) while waiting for ${re}; logs: ${show(logs.stdout + logs.stderr)}`)
        if (Date.now() - t0 > timeoutMs) fail(`timed out after ${timeoutMs / 1000}s waiting for ${re} in logs of ${container}: ${show(logs.stdout + logs.stderr)}`)
        if (signal.aborted) fail('aborted')
        await sleep(200)
      }
    },
    note: msg => { notes.push(msg) },
    signal,
  }
  return ctx
}

/**
 * The package tree built from this checkout (tests/run runs from the repository root and builds it
 * there): what the runtime under test uses when it is a lane's or the freshly installed one.
 */
export const PKG_DIR = `${process.cwd()}/dist/opt/runcvm`

/**
 * Run a bench script as a case's body (the case and the benchmark figures share one script, so
 * they cannot drift apart): `bash <script> [args]` from the repository root with `env` added, stdout and
 * stderr collected as lines. On the case's timeout the script gets SIGTERM so its trap can clean
 * up. Resolves with its exit status (128 + signal when killed) and its output lines.
 */
export function runBenchScript(ctx: Ctx, script: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number; out: string[] }> {
  const out: string[] = []
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const onAbort = (): void => { p.kill('SIGTERM') }
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    // Whole lines per stream: a chunk may end inside a line.
    const lines = (): ((b: Buffer) => void) => {
      let rest = ''
      return b => {
        const parts = (rest + b.toString()).split('\n')
        rest = parts.pop() ?? ''
        out.push(...parts.filter(l => l !== ''))
      }
    }
    const takeOut = lines()
    const takeErr = lines()
    p.stdout.on('data', takeOut)
    p.stderr.on('data', takeErr)
    p.on('error', reject)
    p.on('close', (c, sig) => {
      ctx.signal.removeEventListener('abort', onAbort)
      takeOut(Buffer.from('\n'))
      takeErr(Buffer.from('\n'))
      resolve({ code: c ?? 128 + (sig === 'SIGKILL' ? 9 : 15), out })
    })
  })
}
