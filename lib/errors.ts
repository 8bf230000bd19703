// Typed errors. Library code throws these (never a plain Error); each role ends through
// runRole() (lib/proc.ts), which reports them. No process.exit here.

export class RunCvmError extends Error {
  /** Process exit status the reporting entry should use. */
  readonly exitCode: number
  /** Optional second line telling the user what to do. */
  readonly hint?: string
  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = new.target.name
    this.exitCode = opts.exitCode ?? 1
    this.hint = opts.hint
  }
}

/** A bad RUNCVM_* value or other user configuration: names the option and what is accepted. */
export class ConfigError extends RunCvmError {}

/** An OCI config.json/process.json we cannot understand or rewrite. */
export class SpecError extends RunCvmError {}

/** A /.runcvm state file (or other runtime file) that is missing or malformed. */
export class StateError extends RunCvmError {
  readonly path: string
  constructor(path: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts)
    this.path = path
  }
}

/** The container's network, as `ip` reports it, is not something the VM can be given. */
export class NetworkError extends RunCvmError {}

/** A helper command that failed: its argv, exit status and what it wrote to stderr. */
export class ExecError extends RunCvmError {
  readonly cmd: readonly string[]
  readonly status: number | null
  readonly stderr: string
  constructor(cmd: readonly string[], status: number | null, message?: string, stderr = '') {
    super(message ?? `command failed (status ${status}): ${cmd.join(' ')}`)
    this.cmd = cmd
    this.status = status
    this.stderr = stderr
  }
}

/**
 * The text the runtime prints for an error, in upstream's format: two blank lines first (Docker's
 * own progress text before us may end in a bare CR, which would otherwise overwrite our line),
 * then `RunCVM: Error: <message>`.
 */
export function formatForDocker(err: unknown): string {
  const msg = err instanceof RunCvmError ? err.message + (err.hint ? `\n${err.hint}` : '') : `internal error: ${messageOf(err)}`
  return `\n\nRunCVM: Error: ${msg}\n`
}

/** The one-line message of anything thrown (no stack). */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** The exit status for a failure: the error's own, else 1. */
export const exitCodeOf = (err: unknown): number => (err instanceof RunCvmError ? err.exitCode : 1)
