// rewriteExecProcess(proc) => proc: the process.json rewrite done at `runc exec` (upstream
// runcvm-runtime, "exec" branch). Pure, never mutates its input.
//
// `docker exec` must run the command in the VM, not the container: the container-side helper
// runcvm-ctr-exec receives the requested identity and cwd as its first arguments and forwards the
// command over ssh to runcvm-vm-exec in the VM; it itself runs as root in the container's /.
import { SpecError } from '../errors.js'
import { CTR_EXEC } from '../paths.js'
import { envOf } from '../settings.js'
import { formatUidGid } from '../ids.js'
import type { Process } from './spec.js'

/**
 * A first argument of `---` means "run the rest in the container, not in the VM" (for debugging
 * the container side of a running VM): drop the marker, change nothing else.
 */
export const CONTAINER_EXEC_MARKER = '---'

export function rewriteExecProcess(proc: Process): Process {
  if (!proc || typeof proc !== 'object' || !proc.user) throw new SpecError('process.json has no user')
  const out = structuredClone(proc)
  const args = out.args ?? []
  if (args[0] === CONTAINER_EXEC_MARKER) {
    out.args = args.slice(1)
    return out
  }
  out.args = [
    CTR_EXEC,
    formatUidGid(out.user),
    out.cwd,
    envOf(out.env).HOME ? '1' : '0',
    // Differs from runcvm-runtime: an absent `terminal` is passed as 'false' (upstream passed 'null').
    out.terminal === true ? 'true' : 'false',
    ...args,
  ]
  out.user = { uid: 0, gid: 0 }
  out.cwd = '/'
  return out
}
