// The workload's environment, one rule for `docker run` (ctr-entrypoint saves it for the VM) and
// `docker exec` (ctr-exec sends it with the command). Pure.
//
// - Every RUNCVM_* variable is RunCVM's, never the workload's: all are hidden, the options, the
//   internal ones the runtime adds at create, and any other RUNCVM_* name (e.g. RUNCVM_EXEC_VIA).
//   Differs from upstream (clean_env unexports a fixed list of known names, so an unknown
//   RUNCVM_* name reached the workload): `docker run -e RUNCVM_X=1` and `docker exec -e RUNCVM_X=1`
//   both hide it.
// - HOME (moby#2968, upstream ctr-entrypoint and ctr-exec): kept when the image, `docker run` or
//   `docker exec` set it; otherwise the home of the requested uid's first passwd entry, and "/"
//   when there is none or it is empty, as runc does. Differs from runcvm-ctr-exec (which left HOME
//   empty for an unknown uid): exec output matches runc's.
import { SpecError } from './errors.js'
import { parseUidGid } from './ids.js'
import { RUNCVM_GUEST } from './paths.js'
import type { PasswdEntry } from './passwd.js'
import type { RunCvmSettings } from './settings.js'
import type { ConfigState } from './state.js'

export const isRunCvmVar = (name: string): boolean => name.startsWith('RUNCVM_')

/** `NAME=value` entries without RunCVM's variables. */
export function withoutRunCvmVars(env: readonly string[]): string[] {
  return env.filter(kv => !isRunCvmVar(kv.slice(0, kv.indexOf('=') >>> 0)))
}

export function workloadHome(hasHome: boolean, current: string | undefined, passwd: readonly PasswdEntry[], uid: number): string {
  if (hasHome && current !== undefined) return current
  return passwd.find(e => e.uid === uid)?.home || '/'
}

/**
 * The environment runc gave the container side (container env, plus `docker exec -e`, in order)
 * as the workload gets it: RunCVM's variables removed, HOME replaced in place when nobody set it
 * (runc set root's, for the RunCVM role), or appended when absent.
 */
export function workloadEnv(
  env: Readonly<Record<string, string | undefined>>,
  o: { hasHome: boolean; uid: number; passwd: readonly PasswdEntry[] },
): string[] {
  const out: string[] = []
  let sawHome = false
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || isRunCvmVar(k)) continue
    if (k === 'HOME') {
      sawHome = true
      out.push(`HOME=${workloadHome(o.hasHome, v, o.passwd, o.uid)}`)
      continue
    }
    out.push(`${k}=${v}`)
  }
  if (!sawHome) out.push(`HOME=${workloadHome(o.hasHome, undefined, o.passwd, o.uid)}`)
  return out
}

/**
 * What ctr-entrypoint saves about the workload (/.runcvm/config.json): the container process as
 * runc started it (argv after runcvm-ctr-entrypoint, env, cwd), with the identity and env it must
 * have in the VM.
 */
export function workloadConfig(o: {
  args: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  passwd: readonly PasswdEntry[]
  settings: Pick<RunCvmSettings, 'RUNCVM_UIDGID' | 'RUNCVM_HAS_HOME'>
}): ConfigState {
  const ids = parseUidGid(o.settings.RUNCVM_UIDGID)
  return {
    v: 1, args: [...o.args], env: workloadEnv(o.env, { hasHome: o.settings.RUNCVM_HAS_HOME, uid: ids.uid, passwd: o.passwd }), cwd: o.cwd, ...ids,
    settingsEnv: Object.fromEntries(Object.entries(o.env).filter(([k]) => isRunCvmVar(k)).map(([k, v]) => [k, v ?? ''])),
  }
}

// --- The container side's own environment -------------------------------------------------------
//
// Container-side roles (Node), QEMU, virtiofsd, dnsmasq, dbclient and everything they start run as
// root next to QEMU, outside the VM. None of them may see the workload's environment: NODE_OPTIONS,
// LD_PRELOAD, LD_LIBRARY_PATH, BASH_ENV, OPENSSL_CONF, GCONV_PATH, LOCPATH, HOSTALIASES,
// GLIBC_TUNABLES... from an image or `docker run/exec -e` would load code or config into them.
// So the runtime replaces the env runc starts the container side with (config.json's process.env
// at create, process.json's env at exec) by roleEnv(): a fixed PATH and HOME, RunCVM's own
// RUNCVM_* variables, and the workload's env as DATA: one JSON array of `NAME=value` strings in
// RUNCVM_WORKLOAD_ENV_<i> chunks, a name no program interprets, decoded only by our code
// (readWorkloadEnv) and handed to the VM.
// Differs from upstream (the container side ran with the container's env).

/** Chunks of the workload env: RUNCVM_WORKLOAD_ENV_0, _1, ... (each below the kernel's 128 KiB per string). */
export const WORKLOAD_ENV_PREFIX = 'RUNCVM_WORKLOAD_ENV_'
/** Characters of JSON per chunk: MAX_ARG_STRLEN is 128 KiB including the name; UTF-8 can triple a char. */
export const WORKLOAD_ENV_CHUNK = 40_000
/** PATH of the container side: the package's tools only. */
export const ROLE_PATH = `${RUNCVM_GUEST}/usr/bin:${RUNCVM_GUEST}/usr/sbin:${RUNCVM_GUEST}/bin`
/** TERM is the one workload variable the container side uses (QEMU's curses display); a plain name only. */
const SAFE_TERM = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/

const nameOf = (kv: string): string => kv.slice(0, kv.indexOf('=') >>> 0)
const isChunkVar = (name: string): boolean => name.startsWith(WORKLOAD_ENV_PREFIX)

/** Split `s` into pieces of at most `n` UTF-16 units, never inside a surrogate pair. */
function chunks(s: string, n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < s.length;) {
    let end = Math.min(i + n, s.length)
    const c = s.charCodeAt(end - 1)
    if (end < s.length && c >= 0xd800 && c <= 0xdbff) end--
    out.push(s.slice(i, end))
    i = end
  }
  return out
}

/**
 * The env runc gives the container side, from the env the engine asked for (`NAME=value` list):
 * PATH, HOME, a safe TERM, every RUNCVM_* setting (values read only by RunCVM), and the rest as
 * the data chunks. Anything already named RUNCVM_WORKLOAD_ENV_* (set by an image) is dropped.
 */
export function roleEnv(env: readonly string[]): string[] {
  const settings: string[] = []
  const workload: string[] = []
  let term: string | undefined
  for (const kv of env) {
    const name = nameOf(kv)
    if (name === '' || isChunkVar(name)) continue
    if (isRunCvmVar(name)) settings.push(kv)
    else workload.push(kv)
    if (name === 'TERM') term = kv.slice(5)
  }
  const json = JSON.stringify(workload)
  return [
    `PATH=${ROLE_PATH}`, 'HOME=/',
    ...(term !== undefined && SAFE_TERM.test(term) ? [`TERM=${term}`] : []),
    ...settings,
    ...chunks(json, WORKLOAD_ENV_CHUNK).map((c, i) => `${WORKLOAD_ENV_PREFIX}${i}=${c}`),
  ]
}

/**
 * The workload env roleEnv() stored in `env` (a role's process.env), as a map in its original
 * order (the last definition wins, as in execve). Throws when the chunks are missing or malformed:
 * a container side started without the runtime's rewrite must not guess.
 */
export function readWorkloadEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  let json = ''
  for (let i = 0; env[`${WORKLOAD_ENV_PREFIX}${i}`] !== undefined; i++) json += env[`${WORKLOAD_ENV_PREFIX}${i}`]
  let list: unknown
  try { list = JSON.parse(json) } catch { list = undefined }
  if (!Array.isArray(list) || !list.every(x => typeof x === 'string')) {
    throw new SpecError(`the workload environment (${WORKLOAD_ENV_PREFIX}*) is missing or malformed: was this container created by runcvm-runtime?`)
  }
  const out: Record<string, string> = {}
  for (const kv of list as string[]) {
    const i = kv.indexOf('=')
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

/** The RUNCVM_* variables of a role's env, without the data chunks. */
export function runCvmVars(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => isRunCvmVar(e[0]) && !isChunkVar(e[0]) && e[1] !== undefined))
}

/** What ctr-entrypoint and ctr-exec work from: the workload env (decoded) plus RunCVM's RUNCVM_* variables. */
export function roleInputEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return { ...readWorkloadEnv(env), ...runCvmVars(env) }
}

/** Remove the data chunks from a role's env (after reading them): no child process needs them. */
export function dropWorkloadEnv(env: Record<string, string | undefined>): void {
  for (const k of Object.keys(env)) if (isChunkVar(k)) delete env[k]
}
