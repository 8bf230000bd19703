// runcvm-runtime: the OCI runtime dockerd/containerd call exactly like runc
// (`dockerd --add-runtime runcvm=/opt/runcvm/scripts/runcvm-runtime`). Port of upstream
// runcvm-runtime.
//
// - `create`: rewrite the bundle's config.json so the container boots a VM (lib/oci/bundle.ts),
//             after the host-side policy for privileged switches set by the image (lib/policy.ts).
// - `exec`:   rewrite the --process JSON so the command runs in the VM.
// - anything else: straight to runc. runc's argv is always passed on unchanged, and we hand over
//   with execve (same PID, no Node left behind).
//
// HOT PATH (every start/state/kill/delete): the create/exec code is imported lazily, and no zx:
// this role starts no program but runc (execve), and importing zx/core would be most of its
// start-up cost (bench/role-start-bench.mjs: the `runtime` vs `runtime+zx` rows).
//
// Environment of this process (i.e. dockerd's, not the container's):
//   RUNCVM_RUNC       path of the real runc (default: search, see lib/runc.ts)
//   RUNCVM_HOST_ROOT  TEST/BENCH ONLY: package root to use instead of /opt/runcvm (kernels dir and
//                     the bind source of /.runcvm/guest). Never set it in production. The policy
//                     file for privileged switches follows it: <R>/etc/runcvm/policy.json for a
//                     package at <R>/opt/runcvm (lib/policy.ts policyFileFor).
// Container settings (RUNCVM_KERNEL, RUNCVM_RUNTIME_DEBUG, ...) come from config.json's env.
import { RUNCVM_HOST } from '../lib/paths.js'
import { execve, runRole } from '../lib/proc.js'
import { findRunc } from '../lib/runc.js'
import { parseCreateArgs, parseExecArgs, parseOpts, parseRuncArgv, RUNC_GLOBAL_OPTS } from '../lib/oci/runc-argv.js'
import { formatRuncLogEntry, runcLogMessage } from '../lib/oci/runc-log.js'
import { appendFileSync } from 'node:fs'

async function main(): Promise<never> {
  const argv = process.argv.slice(2)
  const runc = findRunc(process.env) // before any rewrite: no runc, no change
  const { command, rest } = parseRuncArgv(argv)
  if (command === 'create' || command === 'exec') {
    const { runCreate, runExec } = await import('../lib/oci/bundle.js')
    const { prepareHostWarningsLog } = await import('../lib/warnings.js')
    const opts = { hostRoot: process.env.RUNCVM_HOST_ROOT || RUNCVM_HOST, argv: process.argv }
    if (command === 'create') {
      // runc's default bundle is the current directory.
      const c = parseCreateArgs(rest)
      runCreate(c.bundle ?? process.cwd(), { ...opts, id: c.id, warningsLog: () => prepareHostWarningsLog() })
    } else {
      // Without --process the command is on runc's argv; Docker always uses --process.
      const { processFile } = parseExecArgs(rest)
      if (processFile) runExec(processFile, opts)
    }
  }
  return execve(runc, [runc, ...argv])
}

/**
 * A failure also goes where Docker will show it: runc's --log file (containerd reads the error
 * from there), besides stderr in upstream's format.
 */
function logForRunc(err: unknown): void {
  const { opts } = parseOpts(process.argv.slice(2), RUNC_GLOBAL_OPTS)
  const log = opts.log
  if (typeof log === 'string' && log !== '') {
    const format = typeof opts['log-format'] === 'string' ? opts['log-format'] : undefined
    try {
      appendFileSync(log, formatRuncLogEntry(runcLogMessage(err), format, new Date()))
    } catch { /* the stderr report still happened */ }
  }
}

runRole(main, { finally: logForRunc })
