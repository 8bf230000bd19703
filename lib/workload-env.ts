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
import { parseUidGid } from './ids.js'
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
