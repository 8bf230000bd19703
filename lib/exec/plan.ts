// planCtrExec: from what runcvm-ctr-exec receives (argv from the process.json rewrite + its env)
// and the saved state, to the dbclient argv that runs the command in the VM. Pure.
//
// Port of runcvm-ctr-exec's behaviour: HOME rules (moby#2968), RUNCVM_* removed from the env,
// `-t` when docker asked for a terminal, key-only login as root on the VM's default IP, port 22222.
import { BIN, SSHD_DIR, SSHD_KEY, SSHD_PORT, VM_EXEC } from '../paths.js'
import { SETTING_NAMES } from '../settings.js'
import { SpecError } from '../errors.js'
import type { NetworkState } from '../state.js'
import {
  type ExecRequest, MAX_INLINE_COMMAND, buildFileCommand, buildInitArgs, buildInlineCommand,
  buildNodeCommand, nulJoin, parseUidGid,
} from './codec.js'
import { homeOf, type PasswdEntry } from './passwd.js'

/** Exec-time switch (docker exec -e RUNCVM_EXEC_VIA=node): run the VM side through Node runcvm-vm-exec. */
export const EXEC_VIA_VAR = 'RUNCVM_EXEC_VIA'

/** What runcvm-runtime put in front of the user's command (see lib/oci/rewrite-exec.ts). */
export interface CtrExecArgs {
  uidGid: string
  cwd: string
  hasHome: boolean
  tty: boolean
  args: string[]
}

export function parseCtrExecArgs(argv: readonly string[]): CtrExecArgs {
  if (argv.length < 5) throw new SpecError('usage: runcvm-ctr-exec <uid:gid:groups> <cwd> <hasHome 0|1> <terminal true|false> <command> [args...]')
  const [uidGid, cwd, hasHome, tty, ...args] = argv
  return { uidGid, cwd, hasHome: hasHome === '1', tty: tty === 'true', args }
}

/**
 * The exec's environment: the process env runc gave us (container env + `docker exec -e`, in
 * order), minus RUNCVM_* (ours, not the user's). HOME: kept when the image, `docker run` or
 * `docker exec` set it; otherwise the requested user's home (runc set root's for *us*).
 */
export function execEnv(env: Readonly<Record<string, string | undefined>>, hasHome: boolean, uid: number, passwd: readonly PasswdEntry[]): string[] {
  const drop = new Set<string>([...SETTING_NAMES, EXEC_VIA_VAR])
  const out: string[] = []
  let sawHome = false
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || drop.has(k)) continue
    if (k === 'HOME') {
      sawHome = true
      out.push(`HOME=${hasHome ? v : homeOf(uid, passwd)}`)
      continue
    }
    out.push(`${k}=${v}`)
  }
  if (!sawHome) out.push(`HOME=${homeOf(uid, passwd)}`)
  return out
}

/** The address dbclient connects to: the default-route interface's IP (upstream load_network default). */
export function vmAddress(net: NetworkState): string | undefined {
  return (net.interfaces.find(i => i.gateway !== undefined && i.ip) ?? net.interfaces.find(i => i.ip))?.ip
}

export interface CtrExecPlan {
  request: ExecRequest
  /** argv for execve, argv[0] included. */
  argv: string[]
  /** A file to write (mode 0600) before exec'ing dbclient, for requests too big to inline. */
  file?: { path: string; content: Buffer }
}

export function planCtrExec(o: {
  args: CtrExecArgs
  env: Readonly<Record<string, string | undefined>>
  passwd: readonly PasswdEntry[]
  net: NetworkState
  /** Unique suffix for the request file name (pid/random), used only when needed. */
  nonce: string
}): CtrExecPlan {
  const { uid, gid, groups } = parseUidGid(o.args.uidGid)
  const request: ExecRequest = {
    uid, gid, groups, cwd: o.args.cwd, tty: o.args.tty, args: o.args.args,
    env: execEnv(o.env, o.args.hasHome, uid, o.passwd),
  }
  const ip = vmAddress(o.net)
  if (!ip) throw new SpecError('RunCVM container has no network address to exec through', { hint: 'docker exec needs the container to be on a network (not --network none)' })
  let command: string
  let file: CtrExecPlan['file']
  if (o.env[EXEC_VIA_VAR] === 'node') {
    command = buildNodeCommand(VM_EXEC, request)
  } else {
    const initArgs = buildInitArgs(request)
    command = buildInlineCommand(initArgs)
    if (command.length > MAX_INLINE_COMMAND) {
      const path = `${SSHD_DIR}/exec-${o.nonce}.req`
      file = { path, content: nulJoin(initArgs) }
      command = buildFileCommand(path)
    }
  }
  const argv = [
    BIN.dbclient,
    ...(request.tty ? ['-t'] : ['-T']),
    '-p', String(SSHD_PORT),
    // -y -y: no host key check and no known_hosts file; the private link and our key are the trust.
    '-y', '-y',
    '-i', SSHD_KEY,
    `root@${ip}`,
    command,
  ]
  return { request, argv, file }
}
