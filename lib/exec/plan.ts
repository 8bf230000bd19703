// planCtrExec: from what runcvm-ctr-exec receives (argv from the process.json rewrite + its env)
// and the saved state, to the dbclient argv that runs the command in the VM. Pure.
//
// Port of runcvm-ctr-exec's behaviour: the workload's env (lib/workload-env.ts: HOME rules,
// RUNCVM_* removed), `-t` when docker asked for a terminal, key-only login as root on the VM's
// default IP, port 22222.
import { BIN, SSHD_DIR, SSHD_KEY, SSHD_PORT, VM_EXEC } from '../paths.js'
import { SpecError } from '../errors.js'
import { parseUidGid } from '../ids.js'
import type { PasswdEntry } from '../passwd.js'
import type { NetworkState } from '../state.js'
import { workloadEnv } from '../workload-env.js'
import {
  type ExecRequest, MAX_INLINE_COMMAND, buildFileCommand, buildInitArgs, buildInlineCommand,
  buildNodeCommand, nulJoin,
} from './codec.js'

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
    env: workloadEnv(o.env, { hasHome: o.args.hasHome, uid, passwd: o.passwd }),
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
