// zx/core for the roles, configured in this one place, and applyCmds(), which runs planned
// commands (Cmd[] from the plan* functions, lib/cmd.ts) through it.
//
// Roles that run programs use zx/core's `$` (quoting, errors that carry the command and its
// stderr, nothrow, quiet, timeouts), always imported from here, never from 'zx' or 'zx/core'
// directly. Bundled by esbuild, zx/core adds ~110 KB and a few ms per role start
// (bench/role-start-bench.mjs; README "Benchmarks"); the full `zx` entry would add ~880 KB.
//
// What zx/core does at import, and why each option is set below:
// - resolveDefaults() turns ZX_* variables of process.env into options (ZX_SHELL, ZX_PREFIX,
//   ZX_PREFER_LOCAL, ZX_VERBOSE...). In the container that env is the image's, which must never
//   choose what runs as root next to QEMU: every such option is set here, overriding it.
// - useBash() looks for bash on PATH (which.sync: a stat per PATH entry, a fraction of a ms) and
//   silently keeps zx's defaults when there is none, as in a busybox-only image. Either way the
//   shell is replaced here by the package's static busybox sh, which every image can run, and the
//   quoting by POSIX single quotes (zx's default $'...' quoting is bash syntax).
// busybox sh -c execs the last command of its script itself, so a `$` command costs one exec of
// the static busybox more than a bare spawn (~1 ms), not an extra resident process.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { $, ProcessOutput, which } from 'zx/core'
import { ExecError } from './errors.js'
import { batchWord, shQuote, type Cmd } from './cmd.js'
import { PKG, RUNCVM_HOST, BIN } from './paths.js'

/**
 * The package's busybox sh: at /.runcvm/guest in a container or VM; on the host, the one in the
 * package tree the running script belongs to (an installer run from a freshly built tree, before
 * /opt/runcvm exists), then /opt/runcvm's. With none, bash: `$.prefix` needs `pipefail`, which
 * Debian's /bin/sh (dash) refuses, failing every command.
 */
export function packageShell(exists: (p: string) => boolean = existsSync, script: string | undefined = process.argv[1]): string {
  const own = script ? join(dirname(dirname(script)), PKG.sh) : undefined
  for (const p of [BIN.sh, own, `${RUNCVM_HOST}/${PKG.sh}`, '/bin/bash']) if (p && exists(p)) return p
  return '/bin/sh'
}

$.shell = packageShell()
$.prefix = 'set -euo pipefail;'
$.postfix = ''
$.quote = shQuote
$.verbose = false
$.quiet = false
$.preferLocal = false
$.detached = false
$.cwd = undefined
$.timeout = undefined
$.timeoutSignal = 'SIGTERM'
$.killSignal = 'SIGTERM'
// No stdin unless a command is given input (a pipe nobody ends would hang a reader).
$.stdio = ['ignore', 'pipe', 'pipe']

export { $, ProcessOutput, which }

export interface ApplyOpts {
  env?: NodeJS.ProcessEnv
  /** Keep going after a failing command (upstream `|| true`); failures are returned. */
  keepGoing?: boolean
  /**
   * Run consecutive commands of this `ip` binary as ONE `ip -batch -` process: one exec instead
   * of one per command (the bridge set-up is a dozen ip commands per interface).
   */
  batchIp?: string
  /** 'ignore': the commands' stderr is not shown (it is kept in the ExecError). Default: shown. */
  stdio?: 'inherit' | 'ignore'
}

/** Consecutive commands of `batchIp` as one group, every other command alone. */
function groups(cmds: readonly Cmd[], batchIp: string | undefined): Cmd[][] {
  const out: Cmd[][] = []
  for (const c of cmds) {
    const last = out.at(-1)
    if (batchIp !== undefined && c[0] === batchIp && last?.[0]?.[0] === batchIp) last.push(c)
    else out.push([c])
  }
  return out
}

/**
 * Run commands in order. Throws ExecError (command, status, stderr) on the first failure unless
 * keepGoing; returns the commands that failed.
 */
export async function applyCmds(cmds: readonly Cmd[], o: ApplyOpts = {}): Promise<Cmd[]> {
  const failed: Cmd[] = []
  const base = { nothrow: true, quiet: o.stdio === 'ignore', ...(o.env ? { env: o.env } : {}) }
  for (const group of groups(cmds, o.batchIp)) {
    let argv: Cmd
    let r: ProcessOutput
    let what: string | undefined
    if (o.batchIp !== undefined && group[0][0] === o.batchIp) {
      argv = [o.batchIp, ...(o.keepGoing ? ['-force'] : []), '-batch', '-']
      const script = group.map(c => c.slice(1).map(batchWord).join(' ')).join('\n') + '\n'
      what = `ip batch failed (status %s):\n${script}`
      r = await $({ ...base, input: script, stdio: 'pipe' })`${argv}`
    } else {
      argv = group[0]
      r = await $(base)`${argv}`
    }
    if (r.exitCode === 0) continue
    if (!o.keepGoing) throw new ExecError(argv, r.exitCode, what?.replace('%s', String(r.exitCode)), r.stderr)
    failed.push(...group)
  }
  return failed
}
