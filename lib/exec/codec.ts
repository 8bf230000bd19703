// The `docker exec` request and its encodings. Pure: no fs, no env, no process.
//
// A request crosses two boundaries on its way into the VM:
//  1. dbclient → dropbear: the remote command is ONE string that dropbear hands to the login
//     shell of root in the image (`<shell> -c <string>`). We do not know that shell (bash, ash,
//     the synthesized /.runcvm/guest/bin/sh, ...), so the string we send contains no user data
//     at all: a fixed prefix plus one base64 token ([A-Za-z0-9+/=], inert in every shell).
//  2. busybox sh in the VM decodes the token into a small POSIX-sh script whose every argument
//     is single-quoted (the one quoting that is byte-exact for any string without NUL: spaces,
//     quotes, backslashes, `$`, newlines, UTF-8 and empty strings all survive) and evals it.
//
// Differs from runcvm-ctr-exec/runcvm-vm-exec: upstream mapped six bytes to 0x80-0x85 with `tr`
// and split on newlines, so any argument holding those high bytes or a newline was corrupted
// (and UTF-8 text uses 0x80-0x85 as continuation bytes).
import { RUNCVM_GUEST } from '../paths.js'
import { SpecError } from '../errors.js'

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

/** The guest tools the VM-side script uses (static busybox, native runcvm-init). */
export const BUSYBOX = `${RUNCVM_GUEST}/usr/bin/busybox`
export const RUNCVM_INIT = `${RUNCVM_GUEST}/sbin/runcvm-init`

/** dropbear's MAX_CMD_LEN (sysoptions.h) is 9000; stay well below it. */
export const MAX_INLINE_COMMAND = 8000

/** POSIX sh single-quoting: exact for any string without NUL. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

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

/**
 * `<uid>:<gid>:<g1,g2,...>` as runcvm-runtime passes it (rewrite-exec uidGidOf). The group list
 * may be empty.
 */
export function parseUidGid(s: string): { uid: number; gid: number; groups: number[] } {
  const m = /^(\d+):(\d+):([\d,]*)$/.exec(s)
  if (!m) throw new SpecError(`invalid uid:gid:groups '${s}'`)
  const groups = m[3] === '' ? [] : m[3].split(',').filter(Boolean).map(Number)
  return { uid: Number(m[1]), gid: Number(m[2]), groups }
}

/** runc's wording for a missing exec cwd (docker prints it; exit status 126). */
export function chdirFailedMessage(cwd: string): string {
  return `OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: no such file or directory: unknown`
}

/**
 * The script busybox sh evals in the VM. Why each line:
 * - `set -m` + `trap : INT QUIT` (tty only): job control puts the command in its own process group and makes it the
 *   pty's foreground group, so ^C and SIGWINCH reach it, and runcvm-init's setsid() is refused
 *   (it is already a group leader), so it keeps the pty as controlling tty.
 * - the `cd` test runs as root before anything else so a missing directory gives runc's message
 *   and 126; runcvm-init repeats the chdir after dropping privileges (permission errors, 126).
 * - the command is NOT exec'd: dbclient ignores the ssh "exit-signal" message and would report 0
 *   for a command killed by a signal; sh waits and exits 128+N, which dbclient passes on.
 * - `env -i` replaces dropbear's session env (USER, SSH_*, its PATH) with exactly the request's.
 */
export function buildVmScript(r: ExecRequest): string {
  const lines: string[] = []
  // ^C/^\ on the pty kill the command, and ash then re-raises SIGINT on itself ("interrupt
  // ourselves"): without a handler sh would die of it and dbclient, which ignores exit-signal,
  // would report 0 instead of 130. A *caught* signal (unlike an ignored one) is reset to the
  // default in the command at exec, so the command still gets ^C.
  if (r.tty) lines.push('set -m', 'trap : INT QUIT')
  // sh's own diagnostics ("Killed" after a signal death) must not reach the user: sh's stderr
  // goes to /dev/null and the command gets the real one back from fd 3.
  lines.push('exec 3>&2 2>/dev/null')
  // Byte-exact with what `docker exec -w /missing` prints under runc (Docker 20.10): the error
  // arrives on stdout, CRLF-terminated (upstream runcvm-vm-exec also printed it on stdout).
  lines.push(`cd ${shQuote(r.cwd)} || { printf '%s\\r\\n' ${shQuote(chdirFailedMessage(r.cwd))}; exit 126; }`)
  // In a subshell: ash reports a signal death while the command's redirections are still in
  // place, so only a parent outside them keeps quiet.
  lines.push('(' + [
    BUSYBOX, 'env', '-i', ...r.env.map(shQuote),
    RUNCVM_INIT, '--no-fork', '--uid', String(r.uid), '--gid', String(r.gid),
    '--groups', shQuote(r.groups.join(',')), '--cwd', shQuote(r.cwd), '--', ...r.args.map(shQuote), '2>&3', '3>&-',
  ].join(' ') + ')')
  lines.push('exit $?')
  return lines.join('\n') + '\n'
}

/**
 * The string dbclient sends as the remote command. The outer shell only sees `exec`, a path, one
 * constant single-quoted snippet and a base64 token; busybox sh decodes the token and evals it.
 */
export function buildInlineCommand(script: string): string {
  return `exec ${BUSYBOX} sh -c 'eval "$(echo "$0" | ${BUSYBOX} base64 -d)"' ${toBase64(script)}`
}

/**
 * For requests too large for dropbear's command limit: the script is written to a file in
 * /.runcvm (shared with the VM) and the remote command runs it. The script deletes itself first
 * (sh has it open; the content stays readable).
 */
export function buildFileCommand(path: string): string {
  return `exec ${BUSYBOX} sh ${shQuote(path)}`
}
export function fileScript(path: string, script: string): string {
  return `${BUSYBOX} rm -f ${shQuote(path)}\n${script}`
}

/** Remote command for the Node fallback (runcvm-vm-exec), e.g. for debugging. */
export function buildNodeCommand(vmExec: string, r: ExecRequest): string {
  return `exec ${vmExec} ${encodeRequest(r)}`
}
