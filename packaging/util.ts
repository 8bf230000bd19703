// packaging/util.ts — the side-effect helpers the build modules share: running tools with argv arrays
// (never a shell string), progress lines, hashing and a few fs walks. Node builtins only: this file
// is bundled by build.mjs for the system Node 20.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'

const t0 = Date.now()

/** Progress line with the elapsed build time, so slow steps are visible in CI logs. */
export function step(msg: string): void {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`)
}

export interface RunOpts {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Show the tool's output (long compiles); otherwise it is captured and shown only on failure. */
  inherit?: boolean
  input?: string
}

/** Run a program, return its stdout. On failure the error names the command and shows stderr. */
export function run(bin: string, args: readonly string[], opts: RunOpts = {}): string {
  try {
    return execFileSync(bin, args as string[], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      input: opts.input,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: opts.inherit ? ['ignore', 'inherit', 'inherit'] : ['pipe', 'pipe', 'pipe'],
    }) as string
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; status?: number }
    const tail = `${err.stdout ?? ''}${err.stderr ?? ''}`.split('\n').slice(-30).join('\n')
    throw new Error(`${bin} ${args.join(' ')} failed (exit ${err.status}):\n${tail}`)
  }
}

/** Like run() but returns {status, out} instead of throwing. */
export function tryRun(bin: string, args: readonly string[], opts: RunOpts = {}): { status: number; out: string } {
  try {
    return { status: 0, out: run(bin, args, opts) }
  } catch (e) {
    return { status: 1, out: String((e as Error).message) }
  }
}

export function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** Every path below `root` (relative, posix), files and symlinks, not directories. */
export function walkFiles(root: string, rel = ''): string[] {
  const out: string[] = []
  const dir = join(root, rel)
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    const r = rel ? `${rel}/${name}` : name
    const st = lstatSync(join(root, r))
    if (st.isDirectory()) out.push(...walkFiles(root, r))
    else out.push(r)
  }
  return out
}

/**
 * Resolve a path inside an extracted package tree, following symlinks as if `root` were '/'
 * (Debian packages use absolute links such as /usr/share/qemu/bios.bin -> /usr/share/seabios/...).
 * Returns the root-relative path of the final non-symlink, or undefined if it does not exist.
 */
export function resolveInRoot(root: string, rel: string, depth = 0): string | undefined {
  if (depth > 40) throw new Error(`symlink loop at ${rel}`)
  const parts = posix.normalize(rel).replace(/^\/+/, '').split('/')
  let cur = ''
  for (let i = 0; i < parts.length; i++) {
    const next = cur ? `${cur}/${parts[i]}` : parts[i]
    const abs = join(root, next)
    if (!existsSync(abs) && !isLink(abs)) return undefined
    if (isLink(abs)) {
      const target = readlinkSync(abs)
      const base = target.startsWith('/') ? target : posix.join(posix.dirname(`/${next}`), target)
      const rest = parts.slice(i + 1).join('/')
      return resolveInRoot(root, rest ? `${base}/${rest}` : base, depth + 1)
    }
    cur = next
  }
  return cur
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

export function readHead(path: string, n = 64): Buffer {
  const buf = readFileSync(path)
  return buf.subarray(0, n)
}

export function ensureParent(path: string): string {
  return dirname(path)
}

/** Disk usage of a file or tree in bytes (`du -sb`). */
export function duBytes(path: string): number {
  return Number(run('du', ['-sb', path]).split('\t')[0])
}
