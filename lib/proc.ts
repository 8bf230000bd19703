// The only process-replacing and process-ending calls: execve() hands a role's process over to
// another program, runRole() is how every role ends. Nothing else in lib/ calls process.exit or
// process.execve.
import { exitCodeOf, formatForDocker, RunCvmError } from './errors.js'

type ExecveFn = (file: string, args?: readonly string[], env?: NodeJS.ProcessEnv) => never

/**
 * Replace this process (same PID) with `file`. argv[0] is included in `args`, as in execve(2).
 *
 * `process.execve` is Experimental (Node >= 22.15 / 23.11) and emits an ExperimentalWarning on
 * first use; that text must never reach the user's stderr (it would show up in `docker run`
 * output), so the warning is swallowed for this one call.
 */
export function execve(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): never {
  const fn = (process as unknown as { execve?: ExecveFn }).execve
  if (typeof fn !== 'function') {
    throw new RunCvmError(`this Node (${process.version}) lacks process.execve; run RunCVM with its bundled Node (>= 22.15)`)
  }
  // Node sets SIGPIPE to SIG_IGN at startup, and an ignored signal stays ignored across execve(2):
  // the new program (runc, QEMU, runcvm-init and through it the workload) would never die of
  // SIGPIPE (`yes | head` would spin). A JS listener makes libuv install a real handler instead,
  // and handlers are reset to SIG_DFL by execve.
  process.on('SIGPIPE', () => {})
  const emit = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type
    if (type === 'ExperimentalWarning' && /execve/i.test(text)) return
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    return fn.call(process, file, [...args], env)
  } finally {
    process.emitWarning = emit // only reached if execve failed
  }
}

export interface RoleEnd {
  /**
   * The text the user sees for a failure. Default: upstream's `RunCVM: Error: <message>` after two
   * blank lines (formatForDocker); the message only, never a stack trace. Roles whose upstream
   * texts differ (ctr-exec, vm-exec, vm-init) pass their own.
   */
  report?: (err: unknown) => string
  /** Last words after the report (the runtime's runc log entry, vm-init's power-off). */
  finally?: (err: unknown) => void
}

/**
 * Run a role's main and end the process the one way every role ends: when main returns (or its
 * promise resolves) the process exits on its own with process.exitCode (0 unless main set it);
 * when it throws (or rejects) the error is reported and the process exits with the error's status
 * (RunCvmError.exitCode, else 1). main may also never return (execve).
 */
export function runRole(main: () => unknown, o: RoleEnd = {}): void {
  const fail = (err: unknown): never => reportAndExit(err, o)
  try {
    const r = main()
    if (r instanceof Promise) r.catch(fail)
  } catch (err) {
    fail(err)
  }
}

/** End now with a failure report (for failures outside main, e.g. argv parsed at import). */
export function reportAndExit(err: unknown, o: RoleEnd = {}): never {
  process.stderr.write((o.report ?? formatForDocker)(err))
  o.finally?.(err)
  process.exit(exitCodeOf(err))
}
