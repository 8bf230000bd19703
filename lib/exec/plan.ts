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
import { type ExecRequest, buildFileCommand, buildInitArgs, buildNodeCommand, encodeRequest, nulJoin } from './codec.js'

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

/**
 * The busybox sh script that runs dbclient ("$@") and then removes the request file ($1) whatever
 * happened: dbclient's exit status is kept; on SIGHUP/SIGINT/SIGTERM the shell exits 128+n after
 * dbclient ended, and the EXIT trap removes the file then too. The VM side removes it as soon as it
 * has read it; this covers a dbclient that never got as far (no route, a refused login, a key
 * mismatch, a signal). Only SIGKILL skips it, and the file dies with the container's /.runcvm.
 * Differs from runcvm-ctr-exec: upstream had no request file to remove.
 */
export const requestCleanupScript = (busybox: string = BIN.busybox): string => [
  'req=$1; shift',
  `trap '${busybox} rm -f -- "$req"' EXIT`,
  "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
  '"$@"',
].join('\n')

/** argv running `argv` under requestCleanupScript for the request file `file` (`busybox sh`, `busybox rm`). */
export const withRequestCleanup = (file: string, argv: readonly string[], busybox: string = BIN.busybox): string[] =>
  [busybox, 'sh', '-c', requestCleanupScript(busybox), 'runcvm-exec', file, ...argv]

export interface CtrExecPlan {
  request: ExecRequest
  /** dbclient's argv, argv[0] included. */
  argv: string[]
  /** What to execve: `argv` under requestCleanupScript (removes the request file when dbclient ends). */
  execArgv: string[]
  /**
   * The request, written (mode 0600, exclusively) before exec'ing dbclient. Always a file: the
   * remote command is on dbclient's argv, which any host user can read in /proc/<pid>/cmdline
   * while the exec runs, and the request carries the workload's env.
   */
  file: { path: string; content: Buffer }
}

export function planCtrExec(o: {
  args: CtrExecArgs
  env: Readonly<Record<string, string | undefined>>
  passwd: readonly PasswdEntry[]
  net: NetworkState
  /** Unique, unpredictable suffix for the request file name (random). */
  nonce: string
}): CtrExecPlan {
  const { uid, gid, groups } = parseUidGid(o.args.uidGid)
  const request: ExecRequest = {
    uid, gid, groups, cwd: o.args.cwd, tty: o.args.tty, args: o.args.args,
    env: workloadEnv(o.env, { hasHome: o.args.hasHome, uid, passwd: o.passwd }),
  }
  const ip = vmAddress(o.net)
  if (!ip) throw new SpecError('RunCVM container has no network address to exec through', { hint: 'docker exec needs the container to be on a network (not --network none)' })
  // Differs from runcvm-ctr-exec: upstream put the whole request (env included) on dbclient's
  // command line; it always travels in a root-only file in /.runcvm, which the VM side removes.
  const path = `${SSHD_DIR}/exec-${o.nonce}.req`
  let command: string
  let file: CtrExecPlan['file']
  if (o.env[EXEC_VIA_VAR] === 'node') {
    file = { path, content: Buffer.from(encodeRequest(request)) }
    command = buildNodeCommand(VM_EXEC, path)
  } else {
    file = { path, content: nulJoin(buildInitArgs(request)) }
    command = buildFileCommand(path)
  }
  const argv = [
    BIN.dbclient,
    ...(request.tty ? ['-t'] : ['-T']),
    '-p', String(SSHD_PORT),
    // One -y: the VM's host key is pinned in $HOME/.ssh/known_hosts, written before every exec
    // (lib/exec/hostkey.ts); a different key ends the exec. -y only spares dbclient the question it
    // would ask on the terminal (or read from the workload's stdin) if the entry were missing.
    // Differs from runcvm-ctr-exec: upstream passed -y -y (no host key check at all).
    '-y',
    '-i', SSHD_KEY,
    `root@${ip}`,
    command,
  ]
  return { request, argv, file, execArgv: withRequestCleanup(path, argv) }
}
