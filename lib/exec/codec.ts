// The `docker exec` request and its encodings. Pure: no fs, no env, no process.
//
// A request crosses one boundary on its way into the VM: dbclient → dropbear, where the remote
// command is ONE string that our patched dropbear hands to the package's busybox sh as
// `sh -c <string>` (patches/dropbear/runcvm-root-session.patch; the image's root shell is never
// used). That string contains no user data at all: `exec <runcvm-init> --request <token>`, where
// the token is base64 ([A-Za-z0-9+/=], inert in any shell) of runcvm-init's own argv as
// NUL-terminated strings. runcvm-init decodes it and execs the command, so no shell ever parses
// user data and the VM starts exactly one process per exec (sh exec's runcvm-init, which exec's
// the command): ~15 ms under TCG instead of the ~60 ms of a decoding shell pipeline.
//
// Differs from runcvm-ctr-exec/runcvm-vm-exec: upstream mapped six bytes to 0x80-0x85 with `tr`
// and split on newlines, so any argument holding those high bytes or a newline was corrupted
// (and UTF-8 text uses 0x80-0x85 as continuation bytes).
import { BIN } from '../paths.js'
import { SpecError } from '../errors.js'
import { shQuote } from '../cmd.js'

/** Everything the VM side needs to run one exec'd command. */
export interface ExecRequest {
  uid: number
  gid: number
  /** Supplementary groups (docker resolves them from the image's /etc/group). */
  groups: number[]
  cwd: string
  /** Final environment, `NAME=value`, in order. */
  env: string[]
  /** argv (argv[0] is looked up in the env's PATH, as runc does). */
  args: string[]
  /** `docker exec -t`: the command gets the pty as controlling tty and foreground group. */
  tty: boolean
}

/** dropbear's MAX_CMD_LEN (sysoptions.h) is 9000; stay well below it. */
export const MAX_INLINE_COMMAND = 8000


export const toBase64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')
export const fromBase64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8')

/** base64 of JSON: the form runcvm-vm-exec (the Node fallback) takes. */
export function encodeRequest(r: ExecRequest): string {
  return toBase64(JSON.stringify(r))
}

const isId = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff
const isStrs = (a: unknown): a is string[] => Array.isArray(a) && a.every(x => typeof x === 'string')

export function decodeRequest(token: string): ExecRequest {
  let r: Partial<ExecRequest>
  try {
    r = JSON.parse(fromBase64(token)) as Partial<ExecRequest>
  } catch (e) {
    throw new SpecError(`malformed exec request: ${(e as Error).message}`)
  }
  if (!r || !isId(r.uid) || !isId(r.gid) || !Array.isArray(r.groups) || !r.groups.every(isId) ||
    typeof r.cwd !== 'string' || !isStrs(r.env) || !isStrs(r.args) || r.args.length === 0 || typeof r.tty !== 'boolean') {
    throw new SpecError('malformed exec request')
  }
  return r as ExecRequest
}

/** runc's wording for a missing exec cwd (docker prints it; exit status 126). */
export function chdirFailedMessage(cwd: string): string {
  return `OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: no such file or directory: unknown`
}

/**
 * runcvm-init's argv for one exec (native/runcvm-init.c documents each option):
 * - `--cwd-error`: the cwd is tried as root first, so a missing directory gives runc's message
 *   (on stdout, CRLF, exit 126); runcvm-init repeats the chdir after dropping privileges
 *   (permission errors, 126).
 * - `--clear-env` + `--env`: exactly the request's environment, not dropbear's session env
 *   (USER, SSH_*, its PATH).
 * - `--runc-exec-errors`: the command is looked up in the request's PATH with runc's rules, and a
 *   command that cannot start gets runc's message (stdout, CRLF) and 126, as `docker exec` shows.
 * - `--no-fork`: runcvm-init becomes the command. With `-t` it is already the session leader that
 *   owns the pty (dropbear made it so), so ^C and SIGWINCH reach the command. A signal death is
 *   reported as 128+N by our dropbear (dbclient ignores ssh exit-signal).
 */
export function buildInitArgs(r: ExecRequest): string[] {
  return [
    '--no-fork', '--clear-env', ...r.env.flatMap(e => ['--env', e]),
    '--uid', String(r.uid), '--gid', String(r.gid), '--groups', r.groups.join(','),
    '--cwd', r.cwd, '--cwd-error', chdirFailedMessage(r.cwd), '--runc-exec-errors',
    '--', ...r.args,
  ]
}

/** The form runcvm-init --request-file reads: every string NUL-terminated. */
export const nulJoin = (args: readonly string[]): Buffer => Buffer.from(args.map(a => `${a}\0`).join(''), 'utf8')

/** The inverse of nulJoin (tests; the VM side is C). */
export function nulSplit(buf: Buffer): string[] {
  const s = buf.toString('utf8')
  if (!s.endsWith('\0')) throw new SpecError('malformed request (strings must end in NUL)')
  return s.slice(0, -1).split('\0')
}

/** The remote command for a request small enough for dropbear's command limit. */
export function buildInlineCommand(initArgs: readonly string[]): string {
  return `exec ${BIN.runcvmInit} --request ${nulJoin(initArgs).toString('base64')}`
}

/**
 * For requests too large for dropbear's command limit: the argv is written to a file in
 * /.runcvm (shared with the VM), which runcvm-init reads and removes.
 */
export function buildFileCommand(path: string): string {
  return `exec ${BIN.runcvmInit} --request-file ${shQuote(path)}`
}

/** Remote command for the Node fallback (runcvm-vm-exec), e.g. for debugging. */
export function buildNodeCommand(vmExec: string, r: ExecRequest): string {
  return `exec ${vmExec} ${encodeRequest(r)}`
}
