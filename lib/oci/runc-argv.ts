// runc command-line grammar: the global options, and the `create` and `exec` options, each quoted
// from `runc --help` / `runc create --help` / `runc exec --help` (runc 1.1.5, Debian 12), plus a
// small pure parser over those tables. Pure: no fs, no env.
// Man pages: https://github.com/opencontainers/runc/tree/main/man
//
// Every option is declared with whether it takes a value. An undeclared boolean would make the
// parser swallow the next token as its value (and mistake the container id for an option value);
// that is the bug class upstream's exec parser has with `-p`.

export interface OptDef {
  /** Long name without dashes. */
  name: string
  /** One-letter alias, if any. */
  short?: string
  /** true: takes a value (`--x v` or `--x=v`); false: boolean flag. */
  value: boolean
}

const o = (name: string, value: boolean, short?: string): OptDef => ({ name, value, short })

/** `runc --help` GLOBAL OPTIONS. */
export const RUNC_GLOBAL_OPTS: readonly OptDef[] = [
  o('debug', false),          // enable debug logging
  o('log', true),             // set the log file to write runc logs to (default is '/dev/stderr')
  o('log-format', true),      // set the log format ('text' (default), or 'json')
  o('root', true),            // root directory for storage of container state
  o('criu', true),            // path to the criu binary used for checkpoint and restore
  o('systemd-cgroup', false), // enable systemd cgroup support
  o('rootless', true),        // ignore cgroup permission errors ('true', 'false', or 'auto')
  o('help', false, 'h'),      // show help
  o('version', false, 'v'),   // print the version
]

/** `runc create --help` OPTIONS. Usage: runc create [command options] <container-id> */
export const RUNC_CREATE_OPTS: readonly OptDef[] = [
  o('bundle', true, 'b'),     // path to the root of the bundle directory, defaults to the current directory
  o('console-socket', true),  // AF_UNIX socket receiving the console pty master
  o('pidfd-socket', true),    // (runc >= 1.2) AF_UNIX socket receiving the init process pidfd
  o('pid-file', true),        // file to write the process id to
  o('no-pivot', false),       // do not use pivot root to jail process inside rootfs
  o('no-new-keyring', false), // do not create a new session keyring for the container
  o('preserve-fds', true),    // pass N additional file descriptors to the container
]

/**
 * `runc exec --help` OPTIONS.
 * Usage: runc exec [command options] <container-id> <command> [command options] || -p process.json <container-id>
 */
export const RUNC_EXEC_OPTS: readonly OptDef[] = [
  o('console-socket', true),     // AF_UNIX socket receiving the console pty master
  o('pidfd-socket', true),       // (runc >= 1.2) AF_UNIX socket receiving the process pidfd
  o('cwd', true),                // current working directory in the container
  o('env', true, 'e'),           // set environment variables
  o('tty', false, 't'),          // allocate a pseudo-TTY
  o('user', true, 'u'),          // UID (format: <uid>[:<gid>])
  o('additional-gids', true, 'g'), // additional gids
  o('process', true, 'p'),       // path to the process.json
  o('detach', false, 'd'),       // detach from the container's process
  o('pid-file', true),           // file to write the process id to
  o('process-label', true),      // set the asm process label for the process (selinux)
  o('apparmor', true),           // set the apparmor profile for the process
  o('no-new-privs', false),      // set the no new privileges value for the process
  o('cap', true, 'c'),           // add a capability to the bounding set for the process
  o('preserve-fds', true),       // pass N additional file descriptors to the container
  o('cgroup', true),             // run the process in an (existing) sub-cgroup(s)
  o('ignore-paused', false),     // allow exec in a paused container
]

export interface ParsedOpts {
  /** Option values by long name (booleans as true; repeated values: the last one). */
  opts: Record<string, string | true>
  /** Index in the input of the first positional argument (= argv.length when there is none). */
  next: number
}

/**
 * Parse leading options of `argv` against `defs` (urfave/cli v1 rules as runc uses them: `--name`
 * or `-name` or `-n`, value as the next token or after `=`; `--` ends options). Stops at the
 * first positional argument. An option not in the table is skipped as a boolean when bare and as
 * a whole when written `--x=v`: runc itself will reject it, and we must not eat the container id.
 */
export function parseOpts(argv: readonly string[], defs: readonly OptDef[]): ParsedOpts {
  const opts: Record<string, string | true> = {}
  let i = 0
  while (i < argv.length) {
    const arg = argv[i]
    if (arg === '--') return { opts, next: i + 1 }
    if (!arg.startsWith('-') || arg === '-') break
    const body = arg.replace(/^--?/, '')
    const eq = body.indexOf('=')
    const key = eq >= 0 ? body.slice(0, eq) : body
    const def = defs.find(d => d.name === key || d.short === key)
    i++
    if (!def) continue
    if (!def.value) opts[def.name] = true
    else if (eq >= 0) opts[def.name] = body.slice(eq + 1)
    else if (i < argv.length) opts[def.name] = argv[i++]
    else opts[def.name] = ''
  }
  return { opts, next: i }
}

export interface RuncCommand {
  /** The runc verb (`create`, `exec`, `state`, ...), or undefined when argv has none. */
  command?: string
  /** Everything after the verb. */
  rest: string[]
}

/** Skip runc's global options and split off the verb. */
export function parseRuncArgv(argv: readonly string[]): RuncCommand {
  const { next } = parseOpts(argv, RUNC_GLOBAL_OPTS)
  return { command: argv[next], rest: argv.slice(next + 1) }
}

export interface CreateArgs {
  /** `--bundle` as given; undefined means runc's default, the current directory. */
  bundle?: string
  id?: string
}

export function parseCreateArgs(rest: readonly string[]): CreateArgs {
  const { opts, next } = parseOpts(rest, RUNC_CREATE_OPTS)
  const b = opts['bundle']
  return { bundle: typeof b === 'string' && b !== '' ? b : undefined, id: rest[next] }
}

export interface ExecArgs {
  /** `--process` file; undefined when the command was given on runc's argv instead. */
  processFile?: string
  id?: string
  tty: boolean
  detach: boolean
}

export function parseExecArgs(rest: readonly string[]): ExecArgs {
  const { opts, next } = parseOpts(rest, RUNC_EXEC_OPTS)
  const p = opts['process']
  return {
    processFile: typeof p === 'string' && p !== '' ? p : undefined,
    id: rest[next],
    tty: opts['tty'] === true,
    detach: opts['detach'] === true,
  }
}
