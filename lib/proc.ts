// The only process-replacing and process-ending calls. Nothing else in lib/ calls
// process.exit or process.execve.
import { formatForDocker, RunCvmError } from './errors.js'

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

/** Print the error in the runtime's user-facing format and exit non-zero. */
export function reportAndExit(err: unknown): never {
  process.stderr.write(formatForDocker(err))
  process.exit(err instanceof RunCvmError ? err.exitCode : 1)
}
